"""The Brain seam: what the flow asks of an interviewer, offline or model-backed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockinterview.schema import (
    Delivery,
    Feedback,
    Pair,
    Question,
    QuestionScore,
    RoleProfile,
    SectionRubric,
)


@dataclass
class AnswerContext:
    """Everything a brain may use about one question and the answers given to it so far."""

    question: Question
    rubric: SectionRubric
    answers: list[str]  # main answer first, then the answers to each follow-up
    follow_ups: list[str] = field(default_factory=list)  # follow-up questions already asked
    delivery: list[Delivery] = field(default_factory=list)
    role: str = "ml-engineer"
    level: str = "mid"
    style: str = "neutral"
    max_follow_ups: int = 1
    remaining_s: float = 0.0  # real time left in the interview (from the clock, never guessed)
    section_remaining_s: float = 0.0
    coding: dict[str, Any] | None = None  # the coding run's verdict and cases, for coding questions
    section_terms: list[str] = field(default_factory=list)
    # the bank's paired concepts (rubrics/pairs.yaml): a term bound to its partner's definition
    # is a wrong claim on any question
    pairs: list[Pair] = field(default_factory=list)

    @property
    def transcript(self) -> str:
        return "\n".join(a for a in self.answers if a)


FaultHook = Callable[[str, dict[str, Any]], None]


class Brain(Protocol):
    """One interviewer brain. Methods that speak yield sentences so speech can start early."""

    name: str

    def follow_up(self, ctx: AnswerContext) -> Iterator[str]:
        """Sentences of one follow-up question, or nothing when no follow-up is worth asking."""
        ...

    def score(self, ctx: AnswerContext) -> QuestionScore:
        """Score the question's answers against the section rubric, with evidence quotes."""
        ...

    def feedback(self, scores: list[QuestionScore], questions: dict[str, Question],
                 style: str) -> Feedback:
        """Two strengths, two improvements, one next step, and a follow-up plan."""
        ...

    def answer_candidate(self, text: str, profile: RoleProfile, style: str) -> Iterator[str]:
        """Answer the candidate's own question about the role, in persona."""
        ...
