"""Streaming Silero VAD on real speech: speech is found where it is, silence stays silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mockinterview.speech.audio import load_audio
from mockinterview.speech.vad import FRAME, StreamingVAD, model_path, speech_flags

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"

SR = 16_000


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return load_audio(SPEECH / "jfk.flac")


def test_model_ships_with_faster_whisper():
    assert model_path().name.startswith("silero_vad")


def test_speech_between_silences_is_located(jfk):
    sil = np.zeros(SR * 2, dtype=np.float32)
    x = np.concatenate([sil, jfk, sil])
    flags = speech_flags(x)
    assert flags.size == x.size // FRAME
    t = np.arange(flags.size) * FRAME / SR
    lead, speech, trail = flags[t < 1.9], flags[(t > 2.5) & (t < 12.5)], flags[t > 13.6]
    assert not lead.any() and not trail.any()
    assert speech.mean() > 0.6  # JFK pauses between phrases, so not 100 %
    first = t[flags.argmax()]
    assert 2.0 <= first <= 2.6


def test_block_size_does_not_change_decisions(jfk):
    """The mic delivers arbitrary blocks: state and remainder carry over between calls."""
    x = jfk[: SR * 4]
    whole = speech_flags(x)
    vad = StreamingVAD()
    pieces = []
    rng = np.random.default_rng(0)
    i = 0
    while i < x.size:
        n = int(rng.integers(1, 3000))
        pieces += [s for _p, s in vad.feed(x[i:i + n])]
        i += n
    assert np.array_equal(np.array(pieces), whole)


def test_state_is_carried_between_frames(jfk):
    """Frame-by-frame with carried state equals faster-whisper's batched run on the same audio."""
    from faster_whisper.vad import get_vad_model

    x = jfk[: (SR * 3 // FRAME) * FRAME]
    lib = np.asarray(get_vad_model()(x)).reshape(-1)
    vad = StreamingVAD()
    ours = np.array([p for p, _s in vad.feed(x)])
    assert ours.shape == lib.shape
    assert np.allclose(ours, lib, atol=1e-4)
    vad.reset()
    assert vad.frames == 0


def test_int16_input_and_reset(jfk):
    vad = StreamingVAD()
    a = [p for p, _ in vad.feed((jfk[:SR] * 32767).astype(np.int16))]
    vad.reset()
    b = [p for p, _ in vad.feed(jfk[:SR])]
    assert np.allclose(a, b, atol=0.01)  # int16 quantisation only
