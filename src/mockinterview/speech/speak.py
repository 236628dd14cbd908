"""Speech out: pyttsx3 (espeak-ng) renders each utterance to a WAV; sounddevice plays it.

pyttsx3 traps handled here (measured on this machine): one ``save_to_file`` per ``runAndWait``
(a second one before it overwrites the first), one engine per process with a single driver name
(a second ``init()`` with another driver hung), and espeak printing "Audio saved to" on stdout,
which we silence at the file-descriptor level so the terminal UI stays clean.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from mockinterview.errors import AudioError

INTERVIEWER_VOICE = "gmw/en"  # British English
CANDIDATE_VOICE = "gmw/en-us"  # the demo's synthetic candidate speaks with another voice


class Voice(Protocol):
    """The text-to-speech seam: Piper (:mod:`mockinterview.speech.piper`) | pyttsx3.

    Declares everything the flow and the synthetic candidate use: ``render`` writes a WAV at the
    voice's own ``sample_rate``; ``synthesise`` returns the samples; ``stream`` yields them a
    sentence at a time, and ``streams`` says whether that is worth it (Piper: the first sentence
    plays while the rest is synthesised; espeak renders a whole question in about 10 ms, so it
    yields it whole). ``voice_id`` and ``rate`` key the demo's cache of synthesised answers.
    """

    name: str
    sample_rate: int
    streams: bool

    @property
    def voice_id(self) -> str: ...

    @property
    def rate(self) -> int | str: ...

    def render(self, text: str, path: Path) -> Path: ...

    def synthesise(self, text: str) -> np.ndarray: ...

    def stream(self, text: str) -> Iterator[np.ndarray]: ...


_ENGINE = None
_ENGINE_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_stdout():
    """Silence C-level stdout (espeak prints on every save)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _release_engine() -> None:
    """Drop the engine while the interpreter is intact (pyttsx3's __del__ fails at shutdown)."""
    global _ENGINE
    if _ENGINE is not None:
        _ENGINE = None
        import gc

        gc.collect()


def _engine():
    global _ENGINE
    if _ENGINE is None:
        import atexit

        atexit.register(_release_engine)
        try:
            import pyttsx3

            _ENGINE = pyttsx3.init("espeak")
        except Exception as e:  # RuntimeError, OSError when libespeak-ng1 is missing
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise AudioError(f"text-to-speech is unavailable ({first}): install Debian's "
                             "libespeak-ng1 (apt-get install libespeak-ng1)") from None
    return _ENGINE


class Pyttsx3Voice:
    """pyttsx3 with the espeak driver. ``rate`` is words per minute."""

    name = "espeak"
    sample_rate = 22_050  # what espeak-ng writes
    streams = False  # a whole question renders in about 10 ms: nothing to gain by streaming

    def __init__(self, voice_id: str = INTERVIEWER_VOICE, rate: int = 165):
        self._voice_id = voice_id
        self._rate = rate

    @property
    def voice_id(self) -> str:
        return self._voice_id

    @property
    def rate(self) -> int:
        return self._rate

    def synthesise(self, text: str) -> np.ndarray:
        """The samples at ``sample_rate`` (rendered through a private temporary WAV)."""
        import soundfile as sf

        scratch = Path(tempfile.mkdtemp(prefix="mockinterview-tts-"))
        try:
            data, _sr = sf.read(str(self.render(text, scratch / "u.wav")), dtype="float32")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return data if data.ndim == 1 else data.mean(axis=1)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        yield self.synthesise(text)

    def render(self, text: str, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # espeak writes into the system temp folder, never straight into the session: when the
        # session's disk is full, pyttsx3's callback raises inside ctypes and runAndWait spins
        # forever. Our own copy below fails cleanly instead (StorageError).
        scratch = tempfile.mkdtemp(prefix="mockinterview-tts-")
        tmp = Path(scratch) / "utterance.wav"
        try:
            self._synthesise(text, tmp)
            if not tmp.exists() or tmp.stat().st_size <= 44:
                raise AudioError(f"{path}: text-to-speech produced no audio")
            from mockinterview.store import atomic_write_bytes

            atomic_write_bytes(path, tmp.read_bytes())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return path

    def _synthesise(self, text: str, tmp: Path) -> None:
        with _ENGINE_LOCK:
            engine = _engine()
            try:
                engine.setProperty("voice", self.voice_id)
            except Exception:
                pass  # unknown voice id: keep the default voice rather than fail the interview
            engine.setProperty("rate", self.rate)
            # Measured here: the first long utterance of a fresh espeak engine sometimes ends
            # without writing its file; a second attempt writes it. Three attempts, then fail.
            for _attempt in range(3):
                with _quiet_stdout(), contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(tmp))
                    engine.runAndWait()
                    # pyttsx3 2.99 may return before the file is written (and print its
                    # "Audio saved" line later): give it up to 2 s, still silenced
                    deadline = time.monotonic() + 2.0
                    while time.monotonic() < deadline and not (tmp.exists()
                                                                 and tmp.stat().st_size > 44):
                        time.sleep(0.02)
                    time.sleep(0.01)
                if tmp.exists() and tmp.stat().st_size > 44:
                    break


class Player:
    """Plays WAVs on the output device when one exists; says once when none does."""

    def __init__(self, device: int | str | None = None, enabled: bool = True):
        self.device = device
        self.enabled = enabled
        self.unavailable_reason: str | None = None
        self._checked = False

    def available(self) -> bool:
        if not self.enabled:
            return False
        if not self._checked:
            self._checked = True
            try:
                import sounddevice as sd

                sd.check_output_settings(device=self.device, channels=1, samplerate=22050)
            except Exception as e:
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                self.unavailable_reason = f"no audio output device ({first}); questions are " \
                                          "saved as WAV files instead of played"
        return self.unavailable_reason is None

    def play(self, path: Path) -> float:
        """Play and block until done; returns seconds played (0 when skipped)."""
        if not self.available():
            return 0.0
        import sounddevice as sd
        import soundfile as sf

        data, sr = sf.read(str(path), dtype="float32")
        try:
            sd.play(data, sr, device=self.device)
            sd.wait()
        except Exception as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            self.unavailable_reason = f"audio output failed ({first}); continuing without sound"
            return 0.0
        return len(data) / sr

    def play_stream(self, chunks: Iterable[np.ndarray], sr: int,
                    on_start: Callable[[], None] | None = None) -> tuple[np.ndarray, float]:
        """Play chunks (a voice's sentences) while later ones are still being synthesised.

        Why: the candidate hears the first sentence after its own synthesis only (0.4-0.5 s with
        Piper for a 16-word question) instead of after the whole utterance's. A thread pulls the
        chunks; this one writes them to one output stream at ``sr`` (any rate: Piper's 22,050 Hz
        plays as is). ``on_start`` runs when the first chunk goes to the device (or, with no
        device, when it is ready). Returns every sample (the WAV to keep) and seconds played; a
        device failure stops playback but synthesis finishes, so the recording is whole.
        """
        q: queue.Queue = queue.Queue()

        def produce() -> None:
            try:
                for c in chunks:
                    q.put(np.asarray(c, dtype=np.float32).reshape(-1))
            except BaseException as e:  # handed to the playing thread, raised there
                q.put(e)
            finally:
                q.put(None)

        threading.Thread(target=produce, daemon=True, name="tts-synth").start()
        got: list[np.ndarray] = []
        played = 0.0
        stream = None
        error: BaseException | None = None
        try:
            while True:
                item = q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    error = item
                    continue
                got.append(item)
                if not self.available():
                    if on_start is not None and len(got) == 1:
                        on_start()
                    continue
                try:
                    if stream is None:
                        import sounddevice as sd

                        stream = sd.OutputStream(samplerate=sr, channels=1, dtype="float32",
                                                 device=self.device)
                        stream.start()
                        if on_start is not None:
                            on_start()
                    stream.write(item.reshape(-1, 1))
                    played += item.size / sr
                except Exception as e:
                    first = str(e).splitlines()[0] if str(e) else type(e).__name__
                    self.unavailable_reason = f"audio output failed ({first}); continuing " \
                                              "without sound"
                    played = 0.0
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.stop()  # returns once the buffered audio has played
                with contextlib.suppress(Exception):
                    stream.close()
        if error is not None:
            raise error
        audio = np.concatenate(got) if got else np.zeros(0, dtype=np.float32)
        return audio, played


def silence(seconds: float, sr: int = 16000) -> np.ndarray:
    return np.zeros(int(seconds * sr), dtype=np.float32)
