"""Devices: the microphone vanishes in the middle of an answer (the PulseAudio server behind the
virtual source is killed). The part recorded is kept and playable, the candidate is told, types
the rest, and the interview goes on by typing to the end."""

from __future__ import annotations

import threading
import time

import pytest
import soundfile as sf

from mockinterview.clock import SimulatedClock
from mockinterview.config import Config
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.store import load_session

from .common import SPEECH
from .ledger import record

capture = pytest.importorskip("mockinterview.speech.capture")
microphone = pytest.importorskip("mockinterview.speech.microphone")
va_mod = pytest.importorskip("mockinterview.testing.virtual_audio")

TYPED = "and then we shipped it after an A/B test"


@pytest.fixture
def virtual_audio():
    yield from va_mod.virtual_audio_fixture()


def test_microphone_vanishes_mid_answer(virtual_audio, recordings, bank, transcriber):
    cfg = Config()
    plan = make_plan(bank, "ml-engineer", "mid", 10, seed=3,
                     sections=["introduction", "technical", "feedback"])
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "mic")
    first = folder / "audio" / "turn-000-answer.wav"
    killed = threading.Event()

    def saboteur() -> None:  # speak into the mic once the first answer is recording, then kill
        deadline = time.monotonic() + 60
        while not first.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        virtual_audio.speak(SPEECH / "jfk.flac")
        time.sleep(4.0)
        virtual_audio.kill_server()
        killed.set()

    typed: list[str] = []

    def type_rest(prompt: str) -> str:
        typed.append(prompt)
        return TYPED

    threading.Thread(target=saboteur, daemon=True).start()
    mic = microphone.MicAnswers(transcriber,
                                options=capture.CaptureOptions(enter_ends=False, stall_s=1.0))
    ui = RecordingUI()
    run_interview(cfg, session, folder, mic, RunOptions(engine="offline", play=False), ui=ui,
                  bank=bank, clock=SimulatedClock(), transcriber=transcriber,
                  fallback_text=type_rest)
    assert killed.is_set()
    saved = load_session(folder)
    t0 = saved.turns[0]
    kept = first.exists() and sf.info(str(first)).duration > 1.0
    told = any(kind == "info" and "microphone failed" in text.lower() for kind, text in ui.lines)
    text = t0.transcript.text.lower() if t0.transcript else ""
    continued = saved.status == "completed" and all(
        t.transcript and TYPED in t.transcript.text for t in saved.turns[1:]
        if not t.capture.get("command") and t.kind != "candidate_question")
    ok = (t0.capture.get("end_reason") == "device-error" and kept and told and TYPED.lower() in text
          and ("fellow" in text or "americans" in text) and continued)
    record("devices", ok, lost=0 if kept else 1,
           note=f"end {t0.capture.get('end_reason')}, kept {kept}, told {told}, text {text!r}, "
                f"status {saved.status}")
    assert t0.capture.get("end_reason") == "device-error", t0.capture
    assert kept, "the part recorded before the device vanished is not on disk"
    assert t0.answer_audio == "audio/turn-000-answer.wav"
    assert told, ui.lines
    assert ("fellow" in text or "americans" in text) and TYPED.lower() in text, text
    assert typed, "the candidate was never asked to type"
    assert continued, [(t.index, t.capture.get("end_reason"), t.transcript and t.transcript.text)
                       for t in saved.turns]
