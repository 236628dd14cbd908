"""mockinterview: a voice-driven mock interviewer for ML, data-science and GenAI interviews."""

__version__ = "0.1.0"
