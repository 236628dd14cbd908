"""The demo: a short, complete interview with a synthetic candidate, offline, no microphone.

The candidate's answers below were written for this project. They are synthesised with a different
voice from the interviewer's and then go through the same path as a recorded answer: the WAV is
written to the session folder, faster-whisper transcribes it, the brain scores it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from mockinterview.bank import Bank
from mockinterview.schema import Plan, PlannedSection, Section, Style, Turn
from mockinterview.speech.audio import SAMPLE_RATE, load_audio, write_wav
from mockinterview.speech.listen import AnswerRequest, CapturedAnswer, QuietSource
from mockinterview.speech.speak import CANDIDATE_VOICE, Pyttsx3Voice, Voice

# question id -> the candidate's answers: the main answer first, then answers to follow-ups
DEMO_ANSWERS: dict[str, list[str]] = {
    "intro-tell-me-about-yourself": [
        "Sure. I studied statistics at university and then spent three years as a data scientist "
        "at a retail company, where I built demand forecasting models and ran pricing "
        "experiments. For the last two years I have worked as a machine learning engineer on a "
        "recommendation team, owning the ranking model from training to deployment. I'm looking "
        "for a role where I can work closer to production systems and mentor junior engineers.",
        "The project I am proudest of cut forecast error by fifteen percent for our largest "
        "product category.",
    ],
    "tech-supervised-vs-unsupervised": [
        "In supervised learning we train on labelled examples, so every input comes with a "
        "target, and the model learns to predict that target. Typical tasks are classification, "
        "like spam detection, and regression, like predicting house prices. In unsupervised "
        "learning there are no labels, and the goal is to find structure in the data, for "
        "example clustering customers with k-means or reducing dimensions with PCA.",
        "Without labels you cannot compute accuracy, so evaluation is harder. I would look at "
        "the silhouette score for the clusters, and check if the groups are useful for the "
        "business, for example if they help us predict which customers will leave.",
    ],
    "code-accuracy": [
        "I will compare the true labels and the predictions element by element, count the "
        "matches, and divide by the number of examples. First I check that both lists have the "
        "same length, and I raise an exception for an empty input instead of dividing by zero.",
        "The approach is a single pass over both lists, so it runs in linear time with "
        "constant extra memory. The edge cases are an empty input and lists of different "
        "lengths, and in both cases the function raises an exception.",
        "I tested three cases. In the first, every prediction is right. In the second, every "
        "prediction is wrong. The third is imbalanced, and accuracy looks high even though the "
        "minority class is always missed.",
    ],
    "beh-challenging-project": [
        "At my previous company we had to migrate our fraud model to a streaming pipeline in "
        "six weeks, because the batch system was being shut down. My role was to lead the "
        "feature migration. The hardest part was that several features were computed "
        "differently online, so I built a comparison job that checked every feature between "
        "the two systems every day. I also split the work into weekly milestones and met the "
        "risk team each Friday. As a result we launched on time, and fraud losses dropped by "
        "eight percent in the first quarter. I learned to test for training and serving skew "
        "before anything else.",
        "The biggest obstacle was a disagreement about the launch date, and I solved it by "
        "showing the daily comparison numbers to the risk team.",
    ],
    "sd-ecommerce-recsys": [
        "First I would clarify the goal, for example increasing purchases, and the scale, say "
        "ten million users and a million products. I would use a two stage design. Candidate "
        "generation retrieves a few hundred items with collaborative filtering and embedding "
        "similarity, and a ranking model, for example a gradient boosting model, orders them "
        "using user features, item features and context. For cold start I would fall back to "
        "popular items in the category. Before launch I would measure recall on past "
        "purchases, and after launch I would run a controlled experiment on the conversion "
        "rate. The ranking service needs to answer in under a hundred milliseconds, so features "
        "come from a feature store and embeddings are computed in advance. Finally I would "
        "monitor drift and retrain the model every week.",
        "For new users without any history I would show popular items, and ask a few "
        "questions about their interests when they sign up.",
    ],
}
CANDIDATE_QUESTIONS = [
    "How do models get from an experiment into production on your team?",
    "No more questions, thank you.",
]
PAUSE_S = 0.35  # between sentences
GENERIC_FOLLOW_UP = "I am not completely sure, but I would start by looking at the data and " \
                    "checking the simplest explanation first."
# the synthetic candidate's code for the coding question
DEMO_SOLUTIONS = {
    "code-accuracy": '''def accuracy(y_true, y_pred):
    """Share of predictions that equal the true label."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must have the same length")
    if len(y_true) == 0:
        raise ValueError("accuracy of an empty input is undefined")
    correct = sum(1 for t, p in zip(y_true, y_pred) if t == p)
    return correct / len(y_true)
''',
}


def demo_plan(bank: Bank, minutes: int = 10, style: str = "friendly") -> Plan:
    """A short plan over the demo's questions (those present in the bank)."""
    by_section: dict[str, list[str]] = {}
    for qid in DEMO_ANSWERS:
        if qid in bank.questions:
            by_section.setdefault(bank.questions[qid].section, []).append(qid)
    budgets = {"introduction": 60, "technical": 120, "coding": 180, "behavioral": 90,
               "system_design": 120, "candidate_questions": 45, "feedback": 30}
    sections = []
    for s, budget in budgets.items():
        ids = by_section.get(s, [])
        if ids or s in ("candidate_questions", "feedback"):
            sections.append(PlannedSection(section=cast(Section, s), budget_s=budget,
                                           question_ids=ids))
    return Plan(role="ml-engineer", level="mid", minutes=minutes, style=cast(Style, style),
                sections=sections, reasons=["demo: a synthetic candidate answers"])


@dataclass
class DemoAnswers(QuietSource):
    """The synthetic candidate: speaks scripted answers with its own voice into WAV files."""

    cache: Path
    voice: Voice = field(default_factory=lambda: Pyttsx3Voice(CANDIDATE_VOICE, rate=140))
    kind: str = "demo"
    spoken: dict[int, str] = field(default_factory=dict)  # answer index -> text spoken
    _per_question: dict[str, int] = field(default_factory=dict)
    _candidate_q: int = 0
    # more scripted answers by question id (a demo tailored to a job answers from the outlines)
    extra: dict[str, list[str]] = field(default_factory=dict)

    def resume_after(self, turns: Sequence[Turn]) -> None:
        """Go on after the answers a resumed session already holds (so a question's next answer
        is its next scripted one, not its first again)."""
        for t in turns:
            if t.answer_audio is None:
                continue
            if t.question_id is None and t.kind == "candidate_question":
                self._candidate_q += 1
            elif t.question_id is not None:
                self._per_question[t.question_id] = self._per_question.get(t.question_id, 0) + 1

    def text_for(self, req: AnswerRequest) -> str:
        qid = req.question_id
        if qid is None:
            i = min(self._candidate_q, len(CANDIDATE_QUESTIONS) - 1)
            self._candidate_q += 1
            return CANDIDATE_QUESTIONS[i]
        n = self._per_question.get(qid, 0)
        self._per_question[qid] = n + 1
        answers = DEMO_ANSWERS.get(qid) or self.extra.get(qid, [])
        return answers[n] if n < len(answers) else GENERIC_FOLLOW_UP

    def speak(self, text: str) -> np.ndarray:
        """Sentence by sentence with short pauses between them, as people speak (one long
        espeak utterance also decodes worse). Cached by voice, rate and text."""
        key = hashlib.sha256(f"{self.voice.voice_id}|{self.voice.rate}|{PAUSE_S}|{text}"
                             .encode()).hexdigest()
        self.cache.mkdir(parents=True, exist_ok=True)
        wav = self.cache / f"{key[:16]}.wav"
        if not wav.exists():
            parts: list[np.ndarray] = []
            for i, sentence in enumerate(_sentences(text)):
                if i:
                    parts.append(np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.float32))
                piece = self.cache / f".{key[:16]}-{i}.wav"
                self.voice.render(sentence, piece)
                parts.append(load_audio(piece))
                piece.unlink()
            write_wav(wav, np.concatenate(parts))
        return load_audio(wav)

    def capture(self, req: AnswerRequest) -> CapturedAnswer:
        text = self.text_for(req)
        if req.question_id in DEMO_SOLUTIONS:
            code = req.audio_path.parent.parent / "code" / f"{req.question_id}.py"
            if code.exists() and "NotImplementedError" in code.read_text():
                code.write_text(DEMO_SOLUTIONS[req.question_id])
        samples = self.speak(text)
        write_wav(req.audio_path, samples, SAMPLE_RATE)
        self.spoken[req.answer_index] = text
        return CapturedAnswer(audio_path=req.audio_path, duration_s=samples.size / SAMPLE_RATE,
                              end_reason="file", stats={"demo_text": text})


def _sentences(text: str) -> list[str]:
    return [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]


def default_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "mockinterview" / "demo"
