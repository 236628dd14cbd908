"""Session folders for report, review and coach tests (shipped like the other harnesses).

``build_spoken_session`` makes a real one: questions and answers spoken by pyttsx3 into WAVs, the
answers transcribed by the real faster-whisper model (word timestamps), delivery measured from
those words, and scores whose evidence quotes are words the model really heard.
``build_hostile_session`` puts markup and script in every text a person or a model can control.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mockinterview.interviewer.scoring import delivery_metrics
from mockinterview.schema import (
    Annotation,
    CodingRun,
    Correction,
    CriterionScore,
    Delivery,
    Event,
    Feedback,
    FollowUpPlan,
    Plan,
    PlannedSection,
    QuestionScore,
    ScoringRun,
    Section,
    Segment,
    Session,
    Transcript,
    Turn,
    TurnKind,
    Word,
)
from mockinterview.store import save_session

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '<a href="javascript:window.__pwned=1">x</a>',
]
HOSTILE_TEXT = " ".join(HOSTILE)

# (section, question id, kind, question, answer). Short answers keep the test fast.
SCRIPT: list[tuple[Section, str, TurnKind, str, str]] = [
    ("technical", "ml.bias-variance", "question",
     "Explain the bias variance trade-off.",
     "Bias is error from wrong assumptions in the model. Variance is error from sensitivity "
     "to small changes in the training data."),
    ("technical", "ml.bias-variance", "follow_up",
     "How would you detect high variance?",
     "I would compare the training error with the validation error."),
    ("behavioral", "beh.disagreement", "question",
     "Tell me about a disagreement with a colleague.",
     "My teammate wanted to ship a model without tests. We agreed on a short checklist."),
]


def _words(t: Transcript | None) -> list[Word]:
    return [w for s in t.segments for w in s.words] if t is not None else []


def build_spoken_session(folder: Path, transcriber) -> Session:
    from mockinterview.speech.speak import CANDIDATE_VOICE, INTERVIEWER_VOICE, Pyttsx3Voice

    interviewer = Pyttsx3Voice(INTERVIEWER_VOICE)
    candidate = Pyttsx3Voice(CANDIDATE_VOICE, rate=170)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    turns: list[Turn] = []
    clock = 0.0
    for i, (section, qid, kind, question, answer) in enumerate(SCRIPT):
        q_rel, a_rel = f"audio/q{i:02d}.wav", f"audio/a{i:02d}.wav"
        interviewer.render(question, folder / q_rel)
        candidate.render(answer, folder / a_rel)
        tr = transcriber.transcribe(folder / a_rel)
        assert _words(tr), f"no words recognised in {a_rel}"
        delivery = delivery_metrics(tr, window_s=2.0)  # short clips: 2 s windows for the chart
        turns.append(Turn(index=i, section=section, question_id=qid, kind=kind,
                          prompt_text=question, prompt_audio=q_rel, answer_audio=a_rel,
                          transcript=tr, delivery=delivery,
                          started=t0 + timedelta(seconds=clock)))
        clock += 4.0 + tr.duration_s + 3.0

    # A correction as the vocabulary pass records it: the first word was heard otherwise.
    first = turns[0].transcript
    assert first is not None
    w0 = _words(first)[0].word
    turns[0].transcript = first.model_copy(update={
        "raw_text": "buy us " + " ".join(w.word for w in _words(first)[1:]),
        "corrections": [Correction(original="buy us", corrected=w0, position=0, score=0.8)]})

    def quote(turn: int, start: int, n: int) -> str:
        return " ".join(w.word for w in _words(turns[turn].transcript)[start:start + n])

    scores = [
        QuestionScore(
            question_id="ml.bias-variance", section="technical", overall=3.4,
            criteria=[
                CriterionScore(criterion="correctness", level=4,
                               rationale="Defines both terms correctly.",
                               evidence=[quote(0, 0, 4)]),
                CriterionScore(criterion="depth", level=3,
                               rationale="Names a diagnostic but no remedy.",
                               evidence=[quote(1, 2, 4), "quantum entanglement of gradients"]),
                CriterionScore(criterion="communication", level=3, rationale="Clear and brief."),
            ],
            covered=["bias", "variance"], missed=["regularization"], engine="offline"),
        QuestionScore(
            question_id="beh.disagreement", section="behavioral", overall=2.5,
            criteria=[
                CriterionScore(criterion="structure", level=2,
                               rationale="Situation and result, little on the actions taken.",
                               evidence=[quote(2, 1, 3)]),
                CriterionScore(criterion="communication", level=3, rationale="Concise."),
            ],
            missed=["result"], engine="offline"),
    ]
    session = Session(
        id=folder.name, created=t0, status="completed", engine="offline",
        stt_model=transcriber.name, answer_source="files",
        plan=Plan(role="ml-engineer", level="mid", minutes=10,
                  sections=[PlannedSection(section="technical", budget_s=300,
                                           question_ids=["ml.bias-variance"]),
                            PlannedSection(section="behavioral", budget_s=180,
                                           question_ids=["beh.disagreement"])],
                  reasons=["mid level: one technical and one behavioural question"]),
        turns=turns,
        scoring_runs=[ScoringRun(id="run-1", engine="offline", scores=scores)],
        events=[
            Event(kind="llm_fault", t_mono=12.0, turn=1,
                  data={"error": "timeout after 20 s", "attempt": 2}),
            Event(kind="fallback", t_mono=12.1, turn=1, data={"to": "offline"}),
            Event(kind="turn_end", t_mono=20.0, turn=2),
        ],
        coding_runs=[CodingRun(question_id="code.two-sum", code_path="code/two_sum.py",
                               code="def two_sum(xs, t):\n    return [0, 1]\n", verdict="partial",
                               passed=1, total=2,
                               cases=[{"call": "two_sum([1, 2], 3)", "expected": "[0, 1]",
                                       "got": "[0, 1]", "passed": True, "note": "basic"},
                                      {"call": "two_sum([3, 4, 5], 9)", "expected": "[1, 2]",
                                       "got": "[0, 1]", "passed": False,
                                       "note": "not the first pair"}])],
        feedback=Feedback(summary="Solid definitions; add remedies and results.",
                          strengths=["Correct definitions"],
                          improvements=["Name a remedy for high variance"],
                          next_steps=["Practise STAR answers"],
                          follow_up=FollowUpPlan(focus=["regularization"],
                                                 questions=["ml.regularization"])),
        annotations=[Annotation(reviewer="alice", turn=0, at_s=1.0, comment="Good start.",
                                levels={"correctness": 5})],
    )
    save_session(session, folder)
    return session


def build_hostile_session(folder: Path) -> Session:
    """A typed-answer session whose every free text holds the hostile strings."""
    folder.mkdir(parents=True, exist_ok=True)
    words = [Word(word=w, start=i * 0.5, end=i * 0.5 + 0.4) for i, w in
             enumerate(HOSTILE_TEXT.split())]
    tr = Transcript(text=HOSTILE_TEXT, raw_text=HOSTILE_TEXT, source="text",
                    corrections=[Correction(original=HOSTILE[0], corrected=HOSTILE[1],
                                            position=0)],
                    segments=[Segment(start=0, end=len(words) * 0.5, text=HOSTILE_TEXT,
                                      words=words)])
    turn = Turn(index=0, section="technical", question_id="q.hostile",
                prompt_text="Question " + HOSTILE_TEXT, transcript=tr,
                prompt_audio="javascript:window.__pwned=1", answer_audio="../../etc/passwd",
                delivery=Delivery(duration_s=5, words=len(words), wpm=100, pace=[90, 110],
                                  fillers={HOSTILE[1]: 1}, filler_count=1))
    score = QuestionScore(question_id="q.hostile", section="technical", overall=2,
                          criteria=[CriterionScore(criterion="correctness", level=2,
                                                   rationale="Rationale " + HOSTILE_TEXT,
                                                   evidence=[HOSTILE[0], HOSTILE[2]])],
                          notes=[HOSTILE[2]])
    session = Session(
        id="hostile-" + HOSTILE[0], status="completed",
        plan=Plan(role="ml-engineer", level="mid", minutes=5, focus=HOSTILE[1],
                  sections=[PlannedSection(section="technical", budget_s=120)],
                  reasons=[HOSTILE_TEXT]),
        turns=[turn],
        scoring_runs=[ScoringRun(id="r", engine=HOSTILE[0], scores=[score])],
        events=[Event(kind="llm_fault" + HOSTILE[0], t_mono=1, turn=0,
                      data={"message": HOSTILE_TEXT})],
        coding_runs=[CodingRun(question_id="q.hostile", code_path="x.py", code=HOSTILE_TEXT,
                               verdict=HOSTILE[1], passed=0, total=1,
                               cases=[{"error": HOSTILE[2]},
                                      {"call": HOSTILE[0], "expected": HOSTILE[1],
                                       "got": HOSTILE[2], "passed": False, "error": HOSTILE[1],
                                       "error_kind": HOSTILE[0], "diff": HOSTILE[2],
                                       "note": HOSTILE[0]}])],
        feedback=Feedback(summary=HOSTILE_TEXT, strengths=[HOSTILE[0]],
                          follow_up=FollowUpPlan(questions=[HOSTILE[2]])),
        annotations=[Annotation(reviewer=HOSTILE[1], turn=0, at_s=0.5, comment=HOSTILE_TEXT,
                                levels={"correctness": 3}),
                     Annotation(reviewer="bob", comment=HOSTILE[2])],
    )
    save_session(session, folder)
    return session


def build_typed_session(folder: Path) -> Session:
    """A small scored session with one short WAV (a tone) and typed words with timings: enough
    for the server tests, which are about files and annotations, not speech."""
    import numpy as np

    from mockinterview.speech.audio import write_wav

    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(16000) / 16000.0
    write_wav(folder / "audio" / "a00.wav", (0.2 * np.sin(2 * np.pi * 440 * t)).astype("float32"))
    text = "Bias is error from wrong assumptions"
    words = [Word(word=w, start=i * 0.15, end=i * 0.15 + 0.12) for i, w in enumerate(text.split())]
    tr = Transcript(text=text, segments=[Segment(start=0, end=1.0, text=text, words=words)],
                    duration_s=1.0)
    session = Session(
        id=folder.name, status="completed",
        plan=Plan(role="data-scientist", level="junior", minutes=5,
                  sections=[PlannedSection(section="technical", budget_s=120,
                                           question_ids=["ml.bias"])]),
        turns=[Turn(index=0, section="technical", question_id="ml.bias",
                    prompt_text="What is bias?", answer_audio="audio/a00.wav", transcript=tr)],
        scoring_runs=[ScoringRun(id="run-1", engine="offline", scores=[QuestionScore(
            question_id="ml.bias", section="technical", overall=3.0,
            criteria=[CriterionScore(criterion="correctness", level=3, rationale="Right idea.",
                                     evidence=["wrong assumptions"]),
                      CriterionScore(criterion="depth", level=2, rationale="Short.")])])],
    )
    save_session(session, folder)
    return session
