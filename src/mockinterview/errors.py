"""Domain errors. Library code raises these; only the CLI turns them into one-line messages."""

from __future__ import annotations


class MockInterviewError(Exception):
    """Base class: str(error) is the one-line message the user sees."""


class ConfigError(MockInterviewError):
    """A configuration file or environment variable holds a bad value."""


class BankError(MockInterviewError):
    """A rubric, question or role file is broken. Carries every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        first = problems[0] if problems else "invalid bank"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more)


class PromptError(MockInterviewError):
    """A prompt template is missing, broken or uses an unknown variable."""


class SessionError(MockInterviewError):
    """A session folder or session.json cannot be read or is of an unknown schema."""


class AudioError(MockInterviewError):
    """An audio file cannot be read, or a device cannot be opened."""


class DeviceError(AudioError):
    """The audio device failed (vanished, errored) while in use."""


class TranscriptionError(MockInterviewError):
    """The speech-to-text model cannot be loaded or failed."""


class LLMError(MockInterviewError):
    """The model server failed in a way retries did not cure."""


class CalibrationError(MockInterviewError):
    """A calibration file has a bad line."""


class StorageError(MockInterviewError):
    """Writing to the recordings folder failed (disk full, permissions, size limit)."""


class BatchError(MockInterviewError):
    """A batch job cannot start: no sessions matched, Ray cannot be reached, a bad option."""


class DocumentError(MockInterviewError):
    """A job description or CV cannot be used: empty, binary, too large, unreadable."""
