"""The interviewer's brains: one protocol (base.Brain), an offline engine and an LLM engine."""

from mockinterview.interviewer.base import AnswerContext, Brain

__all__ = ["AnswerContext", "Brain"]
