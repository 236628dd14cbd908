"""A whole interview through the real microphone path: PulseAudio virtual source -> PortAudio ->
MicAnswers -> the flow. The answer ends by itself and is transcribed; the session tape is
written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import soundfile as sf

from mockinterview.config import load_config
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.speech.microphone import MicAnswers
from mockinterview.testing.virtual_audio import virtual_audio_fixture
from mockinterview.textnorm import wer

pytestmark = pytest.mark.audio
virtual_audio = pytest.fixture(virtual_audio_fixture)
JFK = Path(__file__).resolve().parents[2] / "shared" / "speech" / "jfk.flac"
REFERENCE = ("And so my fellow Americans, ask not what your country can do for you, ask what you "
             "can do for your country.")


def test_spoken_answer_through_the_microphone_in_a_real_interview(virtual_audio, recordings,
                                                                   bank, transcriber):
    cfg = load_config()
    plan = make_plan(bank, "ml-engineer", "mid", 10, sections=["introduction"], seed=1,
                     per_section={"introduction": 1})
    mic = MicAnswers.from_config(cfg, transcriber=transcriber)
    mic.options.enter_ends = False
    real_capture = mic.capture

    def speak_then_capture(req):
        threading.Timer(0.5, lambda: virtual_audio.speak(JFK)).start()
        return real_capture(req)

    mic.capture = speak_then_capture
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "mic")
    s = run_interview(cfg, session, folder, mic, RunOptions(play=False, max_follow_ups=0),
                      ui=RecordingUI(), bank=bank, transcriber=transcriber)
    assert s.status == "completed"
    (turn,) = [t for t in s.turns if t.answer_audio]
    assert turn.capture["end_reason"] == "silence"
    assert wer(REFERENCE, turn.transcript.raw_text or turn.transcript.text) < 0.25
    assert sf.info(str(folder / turn.answer_audio)).duration > 10
    kinds = [e.kind for e in s.events if e.turn == turn.index]
    for k in ("speech_start", "last_voiced", "end_of_turn", "transcript_final"):
        assert k in kinds
    tape = sf.info(str(folder / "audio" / "session.wav"))
    assert tape.duration > 11  # the question and the answer on one timeline
