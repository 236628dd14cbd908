"""Shared fixtures: one loaded Whisper model and one loaded bank for the whole test run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SPEECH = SHARED / "speech"


@pytest.fixture(scope="session")
def transcriber():
    from mockinterview.speech.transcribe import WhisperTranscriber

    return WhisperTranscriber()


@pytest.fixture(scope="session")
def bank():
    from mockinterview.bank import load_bank

    return load_bank(Path(os.environ.get("MOCKINTERVIEW_RUBRICS", ROOT / "rubrics")))


@pytest.fixture
def recordings(tmp_path, monkeypatch):
    """A private recordings folder, also exported as MOCKINTERVIEW_RECORDINGS."""
    d = tmp_path / "recordings"
    d.mkdir()
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(d))
    return d


@pytest.fixture(autouse=True)
def _espeak_voice_unless_asked(monkeypatch):
    """The interviewer speaks with espeak-ng in tests unless one asks for Piper (tests/
    test_piper.py does): it keeps the suite's timings (Piper adds about 0.3 s per utterance) and
    its audio identical run to run."""
    if "MOCKINTERVIEW_VOICE" not in os.environ:
        monkeypatch.setenv("MOCKINTERVIEW_VOICE", "espeak")
