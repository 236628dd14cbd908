"""Streaming voice activity detection with the Silero VAD model that faster-whisper ships.

Why not ``faster_whisper.vad``: its wrapper resets the recurrent state on every call, which is right
for a whole file but wrong for a live microphone fed 32 ms at a time. Here one ONNX session runs
frame by frame (512 samples at 16 kHz) and carries the LSTM state (``h``, ``c``) and the 64-sample
context between calls, exactly as the library does inside one batch. Cost: about 50 µs per frame.

Model I/O (checked with onnxruntime): inputs ``input`` [n, 576] (64 context + 512 new samples),
``h`` and ``c`` [1, 1, 128]; outputs ``speech_probs`` [n], ``hn``, ``cn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mockinterview.errors import AudioError

FRAME = 512  # samples per VAD frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame the model sees before each frame
SAMPLE_RATE = 16_000


def model_path() -> Path:
    """The Silero VAD ONNX file inside the installed faster-whisper."""
    try:
        import faster_whisper
    except ImportError:  # pragma: no cover - faster-whisper is a dependency
        raise AudioError("voice activity detection needs faster-whisper (pip install "
                         "faster-whisper)") from None
    assets = Path(faster_whisper.__file__).parent / "assets"
    for name in ("silero_vad_v6.onnx", "silero_vad_v5.onnx", "silero_vad.onnx"):
        if (assets / name).exists():
            return assets / name
    raise AudioError(f"{assets}: no Silero VAD model found in faster-whisper's assets")


@dataclass
class VadOptions:
    """Hysteresis thresholds on the per-frame speech probability.

    - ``threshold=0.5``: a frame at or above it is speech (Silero's own default).
    - ``neg_threshold=0.35``: once in speech, a frame only counts as silence below this, so soft
      word endings do not flicker in and out of speech (Silero's ``threshold - 0.15``).
    """

    threshold: float = 0.5
    neg_threshold: float = 0.35


class StreamingVAD:
    """Feed any number of samples at a time; get one speech decision per 32 ms frame.

    ``feed`` buffers the remainder that does not fill a frame, so callers can push whatever block
    size the audio device delivers.
    """

    def __init__(self, options: VadOptions | None = None, path: Path | None = None):
        try:
            import onnxruntime
        except ImportError:  # pragma: no cover - faster-whisper pulls onnxruntime in
            raise AudioError("voice activity detection needs onnxruntime") from None
        self.options = options or VadOptions()
        so = onnxruntime.SessionOptions()
        so.inter_op_num_threads = 1
        so.intra_op_num_threads = 1  # one frame is tiny: threads only add overhead
        so.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(path or model_path()), providers=["CPUExecutionProvider"], sess_options=so)
        self.reset()

    def reset(self) -> None:
        """Forget all state: call between answers."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._speaking = False
        self.frames = 0  # frames processed since reset

    def prob(self, frame: np.ndarray) -> float:
        """Speech probability of exactly one 512-sample float32 frame; advances the state."""
        x = np.concatenate([self._context, frame]).reshape(1, CONTEXT + FRAME)
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h,
                                                         "c": self._c})
        self._context = frame[-CONTEXT:].copy()
        self.frames += 1
        return float(np.asarray(out).reshape(-1)[0])

    def feed(self, samples: np.ndarray) -> list[tuple[float, bool]]:
        """Push float32 (or int16) samples; returns (probability, is_speech) per completed frame."""
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        buf = np.concatenate([self._pending, samples.astype(np.float32, copy=False).reshape(-1)])
        n = buf.size // FRAME
        out: list[tuple[float, bool]] = []
        for i in range(n):
            p = self.prob(buf[i * FRAME:(i + 1) * FRAME])
            if self._speaking:
                self._speaking = p >= self.options.neg_threshold
            else:
                self._speaking = p >= self.options.threshold
            out.append((p, self._speaking))
        self._pending = buf[n * FRAME:].copy()
        return out


def speech_flags(samples: np.ndarray, options: VadOptions | None = None) -> np.ndarray:
    """Per-frame speech decisions for a whole clip (a convenience for tests and tools)."""
    vad = StreamingVAD(options)
    return np.array([s for _p, s in vad.feed(samples)], dtype=bool)
