"""The microphone (sounddevice): the live answer source, devices and the microphone check.

- :class:`MicAnswers`: the ``listen.AnswerSource`` for a live microphone; each answer's blocks go
  through :class:`mockinterview.speech.capture.AnswerPipeline`.
- :func:`list_devices` and :func:`mic_check` for ``mockinterview devices`` and ``doctor``.
"""

from __future__ import annotations

import contextlib
import queue
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mockinterview.errors import AudioError, DeviceError
from mockinterview.speech.capture import BLOCK, SR, AnswerPipeline, CaptureOptions, LevelMeter
from mockinterview.speech.endpoint import EndpointOptions
from mockinterview.speech.listen import AnswerRequest, CapturedAnswer
from mockinterview.speech.transcribe import WhisperTranscriber


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
        return (f"{self.device}: peak {self.peak:.3f}, {self.rms_db:.0f} dBFS "
                f"over {self.seconds:g} s")


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


__all__ = ["DeviceInfo", "MicAnswers", "MicCheck", "device_name", "list_devices", "mic_check"]
