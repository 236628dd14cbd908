"""Audio files: read anything to 16 kHz mono float32, write WAVs safely.

Reading tries libsndfile first (WAV, FLAC, OGG, MP3 in recent builds; fast, exact) and falls back to
PyAV, which faster-whisper already depends on, for the rest. Every failure becomes one AudioError
line naming the file.
"""

from __future__ import annotations

import contextlib
import os
import wave
from pathlib import Path

import numpy as np

from mockinterview.errors import AudioError, StorageError

SAMPLE_RATE = 16_000
MAX_SECONDS = 3600  # refuse anything longer: a mistake, not an answer; 1 h at 16 kHz is 230 MB


def _resample(x: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling by FFT-free polyphase-style interpolation (scipy-free)."""
    if sr_in == sr_out or x.size == 0:
        return x.astype(np.float32, copy=False)
    # Low-pass before decimation with a windowed-sinc FIR, then linear interpolation on the
    # filtered signal: accurate enough for speech recognition, no extra dependency.
    if sr_out < sr_in:
        cutoff = 0.5 * sr_out / sr_in
        taps = 63
        n = np.arange(taps) - (taps - 1) / 2
        h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
        h /= h.sum()
        x = np.convolve(x, h, mode="same")
    n_out = int(round(x.size * sr_out / sr_in))
    t_out = np.arange(n_out) * (sr_in / sr_out)
    return np.interp(t_out, np.arange(x.size), x).astype(np.float32)


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a file to mono float32 at ``sr``. Raises AudioError with the file name."""
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such audio file")
    if p.is_dir():
        raise AudioError(f"{p}: is a folder, not an audio file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise AudioError(f"{p}: cannot read ({e.strerror})") from None
    if size == 0:
        raise AudioError(f"{p}: empty file (0 bytes)")
    data: np.ndarray | None = None
    rate = 0
    try:
        import soundfile as sf

        info = sf.info(str(p))
        if info.duration > MAX_SECONDS:
            raise AudioError(f"{p}: {info.duration / 3600:.1f} h of audio is longer than the "
                             f"{MAX_SECONDS // 3600} h limit")
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
        data = data.mean(axis=1)
    except AudioError:
        raise
    except Exception:
        data = None
    if data is None:
        data, rate = _decode_with_av(p)
    if data.size == 0:
        raise AudioError(f"{p}: holds no audio samples")
    if not np.all(np.isfinite(data)):
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return _resample(data, rate, sr)


def _decode_with_av(p: Path) -> tuple[np.ndarray, int]:
    try:
        import av
    except ImportError:  # pragma: no cover - av comes with faster-whisper
        raise AudioError(f"{p}: unsupported audio format (install PyAV to decode it)") from None
    try:
        with av.open(str(p), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{p}: not an audio file (no audio stream)")
            stream = container.streams.audio[0]
            if container.duration and container.duration / 1e6 > MAX_SECONDS:
                raise AudioError(f"{p}: longer than the {MAX_SECONDS // 3600} h limit")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception as e:  # PyAV raises many types for garbage input
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise AudioError(f"{p}: not a readable audio file ({first})") from None
    if not chunks:
        raise AudioError(f"{p}: holds no audio samples")
    return np.concatenate(chunks).astype(np.float32), SAMPLE_RATE


def to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")


def write_wav(path: str | os.PathLike, samples: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write mono 16-bit PCM atomically (temp file, fsync, rename)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    pcm = samples if samples.dtype == np.int16 else to_int16(samples)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(pcm.tobytes())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except OSError as e:  # disk full, file size limit, permissions: one line, not a traceback
        raise StorageError(f"{p}: cannot write ({e.strerror or e}); what was saved before "
                           "is intact") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return p


def duration_s(path: str | os.PathLike) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except Exception:
        return 0.0
