"""The interview flow: the full structure on a simulated clock, commands, errors, resume."""

from __future__ import annotations

import pytest

from mockinterview.clock import SimulatedClock
from mockinterview.config import load_config
from mockinterview.errors import AudioError
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.schema import SECTIONS
from mockinterview.session.commands import detect_command
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.speech.listen import FileAnswers, QuietSource, TextAnswers
from mockinterview.store import load_session

ANSWER = ("I would start from the definition and then give an example from my last project. "
          "First, the key idea is to balance bias and variance, because a model that is too "
          "simple underfits while a model that is too flexible overfits the training data. "
          "For example, we used cross validation to choose the regularisation strength, and we "
          "measured precision and recall on a held out test set. The trade-off depends on the "
          "cost of errors, so we talked to the business before choosing a threshold. ") * 2


def test_thirty_minute_plan_visits_every_section_in_order_and_ends_on_time(recordings, bank):
    cfg = load_config()
    plan = make_plan(bank, "ml-engineer", "mid", 30, seed=1)
    assert [p.section for p in plan.sections] == list(SECTIONS)
    assert abs(sum(p.budget_s for p in plan.sections) - 1800) < 1
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "text")
    clock = SimulatedClock()
    ui = RecordingUI()
    answers = TextAnswers([ANSWER] * 60)
    s = run_interview(cfg, session, folder, answers, RunOptions(play=False), ui=ui, bank=bank,
                      clock=clock)
    assert s.status == "completed"
    starts = [e.data["section"] for e in s.events if e.kind == "section_start"]
    assert starts == [p.section for p in plan.sections]
    # the interview ends within one minute of the planned length
    end = next(e for e in s.events if e.kind == "interview_end")
    assert end.data["elapsed_s"] <= 30 * 60 + 60
    # no section overruns its budget by more than one answer
    for e in s.events:
        if e.kind == "section_end":
            ps = next(p for p in plan.sections if p.section == e.data["section"])
            assert e.data["used_s"] <= ps.budget_s + 300
    assert s.feedback and s.feedback.follow_up and s.feedback.follow_up.suggested_date
    assert load_session(folder) == s


@pytest.mark.parametrize("text,command", [
    ("Could you repeat the question?", "repeat"),
    ("Sorry, can you rephrase that?", "rephrase"),
    ("Skip this one, please.", "skip"),
    ("Can we skip this one?", "skip"),
    ("Let us skip this question.", "skip"),
    ("I have a question.", "question"),
    ("Can we pause?", "pause"),
    ("Okay, let's continue.", "resume"),
    ("Let's end here.", "end"),
    ("I would repeat the experiment with a different seed to check the variance.", None),
    ("We skip this step when the data is already clean because it is costly.", None),
    # misheard verbs in the polite frame: only the harmless requests, never skip or end
    ("Can you refrain now?", "rephrase"),
    ("Could you repeal that?", "repeat"),
    ("Can you explain that?", None),
    ("Could you reframe it for me?", "rephrase"),
    ("Can you remove that?", None),
])
def test_voice_commands_from_text(text, command):
    assert detect_command(text) == command


def test_voice_commands_from_real_speech(tmp_path, transcriber):
    """Spoken commands, synthesised by espeak-ng's command line: the same engine as pyttsx3, but
    the identical waveform on every run (pyttsx3's differ a little, so tiny.en's hearing did)."""
    from mockinterview.testing.answers import EspeakCliVoice

    voice = EspeakCliVoice("en-us")
    for text, command in [("Could you repeat the question?", "repeat"),
                          ("Can we skip this one?", "skip"),
                          ("Let's end here.", "end"),
                          ("Can you rephrase that?", "rephrase")]:
        wav = voice.render(text, tmp_path / f"{command}.wav")
        heard = transcriber.transcribe(wav).text
        assert detect_command(heard) == command, heard


def test_commands_change_the_interview(recordings, bank):
    cfg = load_config()
    plan = make_plan(bank, "ml-engineer", "mid", 30, sections=["technical"], seed=3)
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "text")
    answers = TextAnswers(["Could you repeat the question?", ANSWER, "Skip this one.",
                           "Let's end here."])
    s = run_interview(cfg, session, folder, answers, RunOptions(play=False), bank=bank,
                      clock=SimulatedClock(), ui=RecordingUI())
    commands = [e.data["command"] for e in s.events if e.kind == "command"]
    assert commands[:1] == ["repeat"]
    assert "skip" in commands and "end" in commands
    first_q = plan.sections[0].question_ids[0]
    asked = [t.prompt_text for t in s.turns if t.question_id == first_q]
    assert asked.count(bank.question(first_q).text) >= 2  # repeated
    assert s.status == "completed"


def test_missing_answer_file_ends_with_an_error_naming_it_and_keeps_the_rest(
        recordings, bank, transcriber, tmp_path):
    from mockinterview.speech.speak import CANDIDATE_VOICE, Pyttsx3Voice

    answers_dir = tmp_path / "answers"
    answers_dir.mkdir()
    Pyttsx3Voice(CANDIDATE_VOICE).render(ANSWER[:300], answers_dir / "01.wav")
    (answers_dir / "02.wav").write_bytes(b"garbage, not audio" * 100)
    cfg = load_config()
    plan = make_plan(bank, "ml-engineer", "mid", 30, sections=["technical"], seed=2)
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "files")
    with pytest.raises(AudioError, match="02.wav"):
        run_interview(cfg, session, folder, FileAnswers(answers_dir),
                      RunOptions(play=False, max_follow_ups=0), bank=bank,
                      transcriber=transcriber, ui=RecordingUI())
    kept = load_session(folder)
    first = kept.turns[0]
    assert first.transcript and first.transcript.text
    assert (folder / first.answer_audio).exists()
    assert (folder / "feedback.md").exists()


class StreamedFileAnswers(QuietSource):
    """The live microphone's path (VAD, endpointing, streaming transcription, crash-safe WAV)
    fed from audio files instead of a device: answer N is the N-th file."""

    kind = "mic"

    def __init__(self, files, transcriber):
        self.files = list(files)
        self.transcriber = transcriber

    def capture(self, req):
        import numpy as np

        from mockinterview.speech.audio import load_audio
        from mockinterview.speech.capture import AnswerPipeline

        x = load_audio(self.files[req.answer_index])
        x = np.concatenate([np.zeros(8000, np.float32), x, np.zeros(32000, np.float32)])
        pipe = AnswerPipeline(req, self.transcriber, synchronous=True)
        for i in range(0, x.size, 512):
            pipe.push((x[i:i + 512] * 32767).astype(np.int16), (i + 512) / 16000)
        return pipe.finish()


@pytest.mark.parametrize("verify", [True, False])
def test_streamed_answer_gets_the_verified_pass_before_it_is_scored(recordings, bank,
                                                                     transcriber, tmp_path,
                                                                     verify):
    """A live (streamed) answer is corrected at once and verified against its audio in the
    scoring thread: session.json ends with the verified text, each change listed. With
    ``[stt] verify = false`` only the offline correction runs."""
    from mockinterview.testing.answers import EspeakCliVoice

    answer = ("L1 regularization, the lasso, drives coefficients to exactly zero, so you get "
              "sparsity, while L2, ridge, shrinks them smoothly. Elastic net mixes both and you "
              "tune lambda with cross-validation.")
    wav = tmp_path / "a1.wav"
    EspeakCliVoice("en-us", rate=175).render(answer, wav)  # fast enough to garble a term
    cfg = load_config()
    cfg.stt = cfg.stt.model_copy(update={"verify": verify})
    plan = make_plan(bank, "data-scientist", "mid", 30, sections=["technical"], seed=2)
    plan.sections[0].question_ids = ["tech-regularisation-l1-l2"]
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "mic")
    s = run_interview(cfg, session, folder, StreamedFileAnswers([wav], transcriber),
                      RunOptions(play=False, max_follow_ups=0), bank=bank,
                      transcriber=transcriber, ui=RecordingUI())
    turn = next(t for t in s.turns if t.question_id == "tech-regularisation-l1-l2")
    kept = load_session(folder)
    saved = next(t for t in kept.turns if t.index == turn.index)
    assert saved.transcript.text == turn.transcript.text
    verified = [c for c in saved.transcript.corrections if c.via == "verified"]
    if not verify:
        assert verified == [] and not any(e.kind == "transcript_verified" for e in kept.events)
        return
    assert verified, saved.transcript.text
    assert all(c.gain > 0 for c in verified)
    assert any(e.kind == "transcript_verified" and e.turn == turn.index for e in kept.events)
    assert saved.transcript.raw_text and saved.transcript.raw_text != saved.transcript.text
    score = next(x for x in kept.latest_scores if x.question_id == "tech-regularisation-l1-l2")
    for c in score.criteria:
        for quote in c.evidence:
            assert quote in saved.transcript.text  # scored on the verified text
