"""The microphone: capture, crash-safe recording, level meter, and the live answer source.

Pieces, each usable alone:

- :class:`CrashSafeWav`: a WAV that is valid on disk at every moment. PCM is written as it arrives
  (straight to the OS, no user-space buffer) and the RIFF/data sizes are rewritten and the file
  fsynced at least every ``flush_s``; after a SIGKILL the file is readable and holds everything up
  to the last header update (at most ``flush_s`` before the kill).
- :class:`LevelMeter`: a rich renderable showing that the microphone hears the candidate.
- :class:`AnswerPipeline`: the capture-to-transcript path for one answer, fed blocks of int16
  samples: WAV writer, session tape, VAD, end-of-turn policy, streaming transcription, events.
  The microphone and the latency benchmark feed the very same object.
- :class:`MicAnswers`: the ``listen.AnswerSource`` for a live microphone (sounddevice).
- :func:`list_devices` and :func:`mic_check` for ``mockinterview devices`` and ``doctor``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mockinterview.errors import AudioError, DeviceError
from mockinterview.speech.endpoint import EndpointDetector, EndpointOptions, is_explicit_end
from mockinterview.speech.listen import AnswerRequest, CapturedAnswer
from mockinterview.speech.stream import StreamingTranscriber, StreamOptions
from mockinterview.speech.transcribe import TranscribeOptions, WhisperTranscriber
from mockinterview.speech.vad import FRAME, StreamingVAD, VadOptions

SR = 16_000
BLOCK = FRAME  # 32 ms blocks from the device: one VAD frame each, a fine-grained clock


# ============================================================================ crash-safe WAV
class CrashSafeWav:
    """Mono 16-bit PCM WAV written incrementally and always valid on disk.

    Why not ``wave``/``soundfile`` writers: they fix the sizes in the header only on close, so a
    killed process leaves a file that claims zero samples. Here the header is rewritten on every
    flush, after the data it counts is already in the file, so a crash at any instant leaves a
    header that counts only bytes that exist.
    """

    HEADER = 44

    def __init__(self, path: str | os.PathLike, sr: int = SR, flush_s: float = 0.5,
                 fsync: bool = True, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.sr = sr
        self.flush_s = flush_s
        self.fsync = fsync
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as e:
            raise AudioError(f"{self.path}: cannot create the recording ({e.strerror})") from None
        self.frames = 0  # samples written
        self._counted = -1  # samples the on-disk header counts
        self._last_flush = self._clock()
        self._lock = threading.Lock()
        self._closed = False
        os.write(self._fd, self._header(0))
        self._sync()
        with contextlib.suppress(OSError):  # make the new file's name durable too
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _header(self, n: int) -> bytes:
        data = n * 2
        return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
                + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, self.sr, self.sr * 2, 2, 16)
                + b"data" + struct.pack("<I", data))

    def _sync(self) -> None:
        if self.fsync:
            os.fsync(self._fd)

    def write(self, samples: np.ndarray) -> None:
        """Append samples (int16, or float in [-1, 1]); flushes when ``flush_s`` has passed."""
        if samples.dtype != np.int16:
            samples = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
        data = samples.astype("<i2", copy=False).tobytes()
        with self._lock:
            if self._closed:
                raise AudioError(f"{self.path}: recording already closed")
            view = memoryview(data)
            while view:
                written = os.pwrite(self._fd, view, self.HEADER + self.frames * 2)
                view = view[written:]
                self.frames += written // 2
            if self._clock() - self._last_flush >= self.flush_s:
                self._flush_locked()

    def write_silence(self, seconds: float) -> None:
        n = int(round(seconds * self.sr))
        while n > 0:
            k = min(n, self.sr)
            self.write(np.zeros(k, dtype=np.int16))
            n -= k

    def _flush_locked(self) -> None:
        if self.frames != self._counted:
            self._sync()  # data first: the header must never count bytes not yet durable
            os.pwrite(self._fd, self._header(self.frames), 0)
            self._sync()
            self._counted = self.frames
        self._last_flush = self._clock()

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()

    @property
    def duration_s(self) -> float:
        return self.frames / self.sr

    def close(self) -> Path:
        with self._lock:
            if not self._closed:
                self._flush_locked()
                os.close(self._fd)
                self._closed = True
        return self.path

    def __enter__(self) -> CrashSafeWav:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ============================================================================ level meter
class LevelMeter:
    """Live input level for a rich ``Live`` display: ``with Live(meter): ...``.

    ``update`` is called from the capture loop with each block; rendering reads two floats, so
    the display thread never touches audio buffers.
    """

    def __init__(self, width: int = 30, label: str = "mic"):
        self.width = width
        self.label = label
        self.rms_db = -90.0
        self.peak = 0.0
        self.status = "listening"
        self._hold = 0.0

    def update(self, block: np.ndarray) -> None:
        x = block.astype(np.float32) / 32768.0 if block.dtype == np.int16 else block
        if x.size == 0:
            return
        rms = float(np.sqrt(np.mean(x * x)))
        self.rms_db = 20 * np.log10(max(rms, 1e-5))
        pk = float(np.max(np.abs(x)))
        self.peak = pk
        self._hold = max(pk, self._hold * 0.95)

    def __rich__(self):
        from rich.text import Text

        # -60 dBFS .. 0 dBFS across the bar
        frac = min(1.0, max(0.0, (self.rms_db + 60) / 60))
        n = int(frac * self.width)
        colour = "green" if frac < 0.75 else ("yellow" if frac < 0.92 else "red")
        t = Text(f"{self.label} ")
        t.append("\u2588" * n, style=colour)
        t.append("\u2591" * (self.width - n), style="dim")
        t.append(f" {self.rms_db:5.0f} dB  {self.status}")
        return t


# ============================================================================ one answer's path
@dataclass
class CaptureOptions:
    """Live answer options.

    - ``endpoint``: the end-of-turn policy (0.8 s / 2.5 s silence windows).
    - ``stream``: when the streaming transcriber decodes and commits.
    - ``vad``: speech probability thresholds.
    - ``warn_before_s=20``: the max-length warning comes this long before ``req.max_s``.
    - ``stall_s=2``: no audio from the device for this long means it vanished.
    - ``enter_ends=True``: Enter on an interactive terminal ends the answer at once.
    - ``barge_in=False``: half duplex; while :meth:`MicAnswers.muted` is active, captured audio
      is replaced by silence (the interviewer never transcribes itself). With ``barge_in`` the
      audio is kept and ``on_speech_start`` fires so the flow can stop the playback.
    """

    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    stream: StreamOptions = field(default_factory=StreamOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    warn_before_s: float = 20.0
    stall_s: float = 2.0
    enter_ends: bool = True
    barge_in: bool = False


class AnswerPipeline:
    """Everything that happens to one answer's audio, block by block, in capture order.

    ``push`` returns the end reason once the turn is over ("silence", "explicit", "no-speech",
    "max-length"); the caller stops feeding and calls ``finish``. Events are stamped with
    ``clock()`` (time.monotonic) at the moment the block that proved them was processed.
    """

    def __init__(self, req: AnswerRequest, transcriber: WhisperTranscriber,
                 options: CaptureOptions | None = None, tape: Any = None,
                 meter: LevelMeter | None = None,
                 on_warning: Callable[[float], None] | None = None,
                 on_speech_start: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, synchronous: bool = False):
        self.req = req
        self.o = options or CaptureOptions()
        self.clock = clock
        self.wav = CrashSafeWav(req.audio_path)
        self.tape = tape
        self.meter = meter
        self.on_warning = on_warning
        self.on_speech_start = on_speech_start
        self.vad = StreamingVAD(self.o.vad)
        self.endpoint = EndpointDetector(self.o.endpoint)
        topts = transcriber.options
        if req.hotwords:
            from dataclasses import replace

            topts = replace(topts, hotwords=req.hotwords)
        self.stream = StreamingTranscriber(transcriber, topts, self.o.stream,
                                           synchronous=synchronous)
        self.events: list[tuple[str, float]] = []
        self.samples = 0
        self.frames_done = 0
        self._warned = False
        self._last_voiced_mark: float | None = None
        self._t_last_voiced: float | None = None
        self.end_reason: str | None = None
        self._t_end: float | None = None

    def _event(self, kind: str, t: float) -> None:
        self.events.append((kind, t))

    def push(self, block: np.ndarray, t: float | None = None, to_tape: bool = True) -> str | None:
        """Feed int16 samples captured by ``t`` (monotonic). Returns the end reason or None.

        ``to_tape=False`` while the interviewer speaks over the answer (a muted length warning):
        the flow places the interviewer's audio on the tape itself.
        """
        now = self.clock() if t is None else t
        if block.dtype != np.int16:
            block = (np.clip(block, -1, 1) * 32767).astype(np.int16)
        block = block.reshape(-1)
        self.wav.write(block)
        if self.tape is not None and to_tape:
            self.tape.append(block)
        if self.meter is not None:
            self.meter.update(block)
        x = block.astype(np.float32) / 32768.0
        frames = self.vad.feed(x)
        self.stream.append(x, frames)
        self.samples += block.size
        was_started = self.endpoint.speech_started
        for _p, speech in frames:
            t0 = self.frames_done * FRAME / SR
            self.frames_done += 1
            self.endpoint.on_frame(t0, t0 + FRAME / SR, speech)
        audio_t = self.samples / SR
        if not was_started and self.endpoint.speech_started:
            # stamp at the moment the sample was captured: the block's end is ``now``
            self._event("speech_start", now - (audio_t - self.endpoint.speech_start_t))
            if self.meter is not None:
                self.meter.status = "hearing you"
            if self.on_speech_start is not None:
                self.on_speech_start()
        if self.endpoint.last_voiced_t is not None and \
                self.endpoint.last_voiced_t != self._last_voiced_mark:
            self._last_voiced_mark = self.endpoint.last_voiced_t
            self._t_last_voiced = now - (audio_t - self.endpoint.last_voiced_t)
        text, until = self.stream.latest()
        self.endpoint.on_text(text, until)
        if not self._warned and self.req.max_s > self.o.warn_before_s and \
                audio_t >= self.req.max_s - self.o.warn_before_s:
            self._warned = True
            self._event("length_warning", now)
            if self.on_warning is not None:
                threading.Thread(target=self.on_warning, args=(self.req.max_s - audio_t,),
                                 name="length-warning", daemon=True).start()
        reason = self.endpoint.decide(audio_t)
        if reason is None and audio_t >= self.req.max_s:
            reason = "max-length"
        if reason is not None:
            self.end(reason, now)
        return reason

    def end(self, reason: str, t: float | None = None) -> None:
        """End the turn now (silence, Enter, device error, ...). Idempotent."""
        if self.end_reason is None:
            self.end_reason = reason
            self._t_end = self.clock() if t is None else t

    def finish(self) -> CapturedAnswer:
        """Close the WAV (durable), finalise the transcript, return the answer."""
        if self.end_reason is None:
            self.end(self.endpoint.decide() or "stopped")
        self.wav.close()
        if self._t_last_voiced is not None:
            self._event("last_voiced", self._t_last_voiced)
        self._event("end_of_turn", self._t_end or self.clock())
        transcript = self.stream.finalize()
        self._event("transcript_final", self.clock())
        order = {"speech_start": 0, "length_warning": 1, "last_voiced": 2, "end_of_turn": 3,
                 "transcript_final": 4}
        self.events.sort(key=lambda e: (e[1], order.get(e[0], 9)))
        stats = {
            "end_reason": self.end_reason,
            "silence_window_s": self.endpoint.window_s,
            "samples": self.samples,
            "vad_frames": self.frames_done,
            "stream_decodes": self.stream.decodes,
            "stream_decode_s": round(self.stream.decode_s, 3),
        }
        if self.stream.errors:
            stats["stream_errors"] = self.stream.errors[:3]
        return CapturedAnswer(audio_path=self.req.audio_path, duration_s=self.samples / SR,
                              end_reason=self.end_reason or "stopped", stats=stats,
                              events=list(self.events), transcript=transcript)


# ============================================================================ the microphone
def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def _sd():
    try:
        import sounddevice as sd
    except OSError as e:  # PortAudio missing
        raise AudioError(f"audio is unavailable ({_first_line(e)}): install Debian's "
                         "libportaudio2") from None
    return sd


def device_name(device: int | str | None, kind: str = "input") -> str:
    sd = _sd()
    try:
        return str(sd.query_devices(device, kind)["name"])
    except Exception as e:
        raise DeviceError(f"no {kind} device {device if device is not None else '(default)'}: "
                          f"{_first_line(e)}") from None


class MicAnswers:
    """Live answers from a microphone: records, ends the turn by itself, transcribes as it goes.

    Construct once per session; ``capture(req)`` per answer. See :class:`CaptureOptions`.
    """

    kind = "mic"

    def __init__(self, transcriber: WhisperTranscriber, device: int | str | None = None,
                 options: CaptureOptions | None = None, tape: Any = None,
                 meter: LevelMeter | None = None,
                 on_warning: Callable[[float], None] | None = None,
                 on_speech_start: Callable[[], None] | None = None):
        self.transcriber = transcriber
        self.device = device
        self.options = options or CaptureOptions()
        self.tape = tape
        self.meter = meter or LevelMeter()
        self.on_warning = on_warning
        self.on_speech_start = on_speech_start
        self._mute = threading.Event()
        self._stop = threading.Event()
        self._pipeline: AnswerPipeline | None = None

    @classmethod
    def from_config(cls, cfg: Any, transcriber: WhisperTranscriber | None = None,
                    **kwargs: Any) -> MicAnswers:
        """Build from ``config.Config``: input device, silence windows, barge-in, STT model.

        ``kwargs`` go to the constructor (``tape``, ``meter``, ``on_warning``,
        ``on_speech_start``). The device is checked now, so a missing microphone is one clear
        AudioError at start rather than a failure at the first answer.
        """
        audio = cfg.audio
        device: int | str | None = audio.input_device
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device)
        if transcriber is None:
            transcriber = WhisperTranscriber(cfg.stt.model, cfg.stt.compute_type,
                                             cfg.stt.cpu_threads)
        opts = CaptureOptions(
            endpoint=EndpointOptions(short_silence_s=audio.short_silence_s,
                                     long_silence_s=audio.long_silence_s,
                                     unknown_text_silence_s=audio.long_silence_s),
            barge_in=audio.barge_in)
        device_name(device, "input")
        return cls(transcriber, device=device, options=opts, **kwargs)

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """While the interviewer speaks (half duplex): captured audio becomes silence."""
        self._mute.set()
        try:
            yield
        finally:
            self._mute.clear()

    def end_now(self, reason: str = "enter") -> None:
        """End the current answer at once (another thread: a key, a button, a command)."""
        self._stop_reason = reason
        self._stop.set()

    def _watch_enter(self, done: threading.Event) -> None:
        try:
            if not (self.options.enter_ends and sys.stdin and sys.stdin.isatty()):
                return
            while not done.is_set():
                r, _w, _x = select.select([sys.stdin], [], [], 0.1)
                if r and not done.is_set():
                    sys.stdin.readline()
                    self.end_now("enter")
                    return
        except (OSError, ValueError):
            return

    def capture(self, req: AnswerRequest) -> CapturedAnswer:
        """Record one answer to ``req.audio_path`` until the turn ends; see the module doc.

        Never raises for a device failure: returns ``end_reason="device-error"`` with whatever
        was recorded (``stats["error"]`` says what happened) so the flow can ask for typed text.
        """
        sd = _sd()
        o = self.options
        self._stop.clear()
        self._stop_reason = "enter"
        q: queue.SimpleQueue = queue.SimpleQueue()
        status = {"overflows": 0, "callbacks": 0, "finished": False}

        def callback(indata, frames, time_info, st):  # PortAudio thread: copy and go
            if st.input_overflow:
                status["overflows"] += 1
            q.put((indata.copy(), time.monotonic()))

        def finished():
            status["finished"] = True

        pipe = AnswerPipeline(req, self.transcriber, o, tape=self.tape, meter=self.meter,
                              on_warning=self.on_warning,
                              on_speech_start=self.on_speech_start if o.barge_in else None)
        self._pipeline = pipe
        self.meter.status = "listening"
        error: str | None = None
        name = "?"
        stream = None
        t_open = time.monotonic()
        try:
            name = device_name(self.device, "input")
            stream = sd.InputStream(samplerate=SR, channels=1, dtype="int16", blocksize=BLOCK,
                                    device=self.device, callback=callback,
                                    finished_callback=finished)
            stream.start()
        except Exception as e:
            error = f"cannot open the microphone {name!r}: {_first_line(e)}"
        done = threading.Event()
        watcher = threading.Thread(target=self._watch_enter, args=(done,), daemon=True)
        watcher.start()
        first_block: float | None = None
        received = 0
        last_data = time.monotonic()
        try:
            while error is None:
                if self._stop.is_set():
                    pipe.end(self._stop_reason)
                    break
                try:
                    block, t = q.get(timeout=0.1)
                except queue.Empty:
                    if status["finished"] or time.monotonic() - last_data > o.stall_s:
                        error = "the microphone stopped delivering audio" + \
                            (" (stream closed)" if status["finished"] else
                             f" (nothing for {o.stall_s:.0f} s)")
                    continue
                last_data = time.monotonic()
                if first_block is None:
                    first_block = t
                    if self.tape is not None:
                        self.tape.seek_to(t - block.shape[0] / SR)
                received += block.shape[0]
                mono = block[:, 0] if block.ndim == 2 else block
                muted = self._mute.is_set() and not o.barge_in
                if muted:
                    mono = np.zeros_like(mono)
                if pipe.push(mono, t, to_tape=not muted) is not None:
                    break
        except Exception as e:  # PortAudio errors surface here on some hosts
            error = f"microphone failed: {_first_line(e)}"
        finally:
            done.set()
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.abort() if error else stream.stop()
                with contextlib.suppress(Exception):
                    stream.close()
            # drain what the device delivered before the stop: nothing captured is lost
            while error is None:
                try:
                    block, t = q.get_nowait()
                except queue.Empty:
                    break
                mono = block[:, 0] if block.ndim == 2 else block
                pipe.push(mono, t)  # after the end: recorded and transcribed, turn stays ended
        if error is not None:
            pipe.end("device-error")
        ans = pipe.finish()
        elapsed = (time.monotonic() - (first_block or t_open))
        ans.stats.update({
            "device": name,
            "overflows": status["overflows"],
            "received_frames": received,
            "expected_frames": int(elapsed * SR),
            "dropped_frames_est": max(0, int(elapsed * SR) - received - BLOCK * 4),
        })
        if error is not None:
            ans.stats["error"] = error
            ans.end_reason = "device-error"
            if pipe.samples == 0:
                ans.audio_path = None
                with contextlib.suppress(OSError):
                    req.audio_path.unlink()
        self.meter.status = "done"
        self._pipeline = None
        return ans


# ============================================================================ devices, doctor
@dataclass
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool


def list_devices() -> list[DeviceInfo]:
    """Every PortAudio device (empty when there is no card and no sound server)."""
    sd = _sd()
    try:
        devs = sd.query_devices()
        apis = sd.query_hostapis()
        din, dout = sd.default.device
    except Exception as e:
        raise AudioError(f"cannot list audio devices: {_first_line(e)}") from None
    out = []
    for i, d in enumerate(devs):
        out.append(DeviceInfo(
            index=i, name=str(d["name"]), hostapi=str(apis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_samplerate=float(d["default_samplerate"]),
            is_default_input=(i == din), is_default_output=(i == dout)))
    return out


@dataclass
class MicCheck:
    ok: bool
    device: str | None
    peak: float  # 0..1 full scale
    rms_db: float
    seconds: float
    problem: str | None = None  # what is wrong, in one line

    def __str__(self) -> str:
        if self.problem:
            return self.problem
        return f"{self.device}: peak {self.peak:.3f}, {self.rms_db:.0f} dBFS over {self.seconds:g} s"


def mic_check(seconds: float = 1.5, device: int | str | None = None,
              min_peak: float = 0.003) -> MicCheck:
    """Record a few seconds and say whether the microphone works and hears something."""
    try:
        sd = _sd()
        name = device_name(device, "input")
    except AudioError as e:
        return MicCheck(False, None, 0.0, -90.0, 0.0, str(e))
    blocks: list[np.ndarray] = []
    n_target = int(seconds * SR)
    got = 0
    try:
        with sd.InputStream(samplerate=SR, channels=1, dtype="int16", blocksize=BLOCK,
                            device=device) as stream:
            deadline = time.monotonic() + seconds + 3.0
            while got < n_target:
                if time.monotonic() > deadline:
                    break
                if stream.read_available < BLOCK:
                    time.sleep(0.02)
                    continue
                data, _overflow = stream.read(BLOCK)
                blocks.append(data[:, 0].copy())
                got += BLOCK
    except Exception as e:
        return MicCheck(False, name, 0.0, -90.0, 0.0, f"recording failed: {_first_line(e)}")
    if not blocks:
        return MicCheck(False, name, 0.0, -90.0, 0.0,
                        f"{name}: no audio arrived in {seconds + 3:.0f} s")
    x = np.concatenate(blocks).astype(np.float32) / 32768.0
    peak = float(np.max(np.abs(x)))
    rms_db = float(20 * np.log10(max(float(np.sqrt(np.mean(x * x))), 1e-5)))
    problem = None
    if got < n_target:
        problem = f"{name}: only {got / SR:.1f} s of {seconds:.1f} s arrived"
    elif peak < min_peak:
        problem = f"{name}: silent (peak {peak:.4f}); is the microphone muted?"
    elif peak >= 0.999:
        problem = f"{name}: clipping (peak at full scale); lower the input gain"
    return MicCheck(problem is None, name, round(peak, 4), round(rms_db, 1),
                    round(got / SR, 2), problem)


__all__ = ["AnswerPipeline", "CaptureOptions", "CrashSafeWav", "DeviceInfo", "LevelMeter",
           "MicAnswers", "MicCheck", "is_explicit_end", "list_devices", "mic_check",
           "TranscribeOptions"]
