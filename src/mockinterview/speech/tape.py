"""The session tape: the whole interview as one WAV, interviewer and candidate on one timeline.

Why: a reviewer listens to the interview as it happened (pauses, hesitations, how long the
interviewer took to answer), not as a pile of per-answer files. The tape is a
:class:`~mockinterview.speech.capture.CrashSafeWav`, so a killed session still leaves it readable.

Placement is by ``time.monotonic()``: ``seek_to(t)`` pads silence up to the moment ``t`` (relative
to when the tape started), then ``append`` writes contiguously. Audio that would start before the
tape's current end (overlap, e.g. a barge-in) is appended right after it instead: the file is
append-only so it stays valid at every instant, and nothing is dropped.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from mockinterview.clock import REAL_CLOCK, Clock
from mockinterview.speech.audio import SAMPLE_RATE, load_audio
from mockinterview.speech.capture import CrashSafeWav


class SessionTape:
    """``audio/session.wav`` for one session. Thread-safe; use as a context manager."""

    def __init__(self, path: str | os.PathLike, clock: Clock = REAL_CLOCK,
                 flush_s: float = 1.0):
        self.clock = clock
        self.t0 = clock.now()
        self.wav = CrashSafeWav(path, SAMPLE_RATE, flush_s=flush_s)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.wav.path

    @property
    def duration_s(self) -> float:
        return self.wav.duration_s

    def seek_to(self, t_mono: float) -> None:
        """Pad with silence so the next audio starts at monotonic time ``t_mono``."""
        with self._lock:
            gap = (t_mono - self.t0) - self.wav.duration_s
            if gap > 0:
                self.wav.write_silence(gap)

    def append(self, samples: np.ndarray) -> None:
        """Append 16 kHz samples (int16 or float) right after what the tape holds."""
        with self._lock:
            self.wav.write(samples)

    def add(self, samples: np.ndarray, t_mono: float) -> None:
        """Place a whole clip at ``t_mono`` (or right after the current end if that is later)."""
        with self._lock:
            gap = (t_mono - self.t0) - self.wav.duration_s
            if gap > 0:
                self.wav.write_silence(gap)
            self.wav.write(samples)

    def add_file(self, path: str | os.PathLike, t_mono: float) -> None:
        """Place an audio file (any rate; e.g. a question's 22 kHz TTS WAV) at ``t_mono``."""
        self.add(load_audio(path), t_mono)

    def mark_now(self) -> None:
        """Pad silence up to now (call before closing so the tape ends at the session end)."""
        self.seek_to(self.clock.now())

    def close(self) -> Path:
        return self.wav.close()

    def __enter__(self) -> SessionTape:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
