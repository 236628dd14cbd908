"""Capturing one answer: crash-safe recording, the level meter, and the answer pipeline.

- :class:`CrashSafeWav`: a WAV that is valid on disk at every moment. PCM is written as it arrives
  (straight to the OS, no user-space buffer) and the RIFF/data sizes are rewritten and the file
  fsynced at least every ``flush_s``; after a SIGKILL the file is readable and holds everything up
  to the last header update (at most ``flush_s`` before the kill).
- :class:`LevelMeter`: a rich renderable showing that the microphone hears the candidate.
- :class:`AnswerPipeline`: the capture-to-transcript path for one answer, fed blocks of int16
  samples: WAV writer, session tape, VAD, end-of-turn policy, streaming transcription, events.
  The microphone (:mod:`mockinterview.speech.microphone`) and the latency benchmark feed the very
  same object.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mockinterview.errors import AudioError
from mockinterview.speech.endpoint import EndpointDetector, EndpointOptions
from mockinterview.speech.listen import AnswerRequest, CapturedAnswer
from mockinterview.speech.stream import StreamingTranscriber, StreamOptions
from mockinterview.speech.transcribe import WhisperTranscriber
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
            # private to the candidate (0600), never through a symbolic link
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                               0o600)
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
        if (not was_started and self.endpoint.speech_started
                and self.endpoint.speech_start_t is not None):
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
        stats: dict[str, Any] = {
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
