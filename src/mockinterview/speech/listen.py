"""Where the candidate's answers come from: one protocol, three sources.

- :class:`FileAnswers`: a folder of audio files, one per answer in order (demos, tests, re-runs);
- :class:`TextAnswers`: typed answers (``--text``) or a scripted list;
- the microphone (:mod:`mockinterview.speech.capture`).

Every source puts the answer on disk (a WAV in the session's audio folder, or the typed text in the
turn) before anything else happens with it.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mockinterview.errors import AudioError
from mockinterview.schema import Transcript
from mockinterview.speech.audio import SAMPLE_RATE, load_audio, write_wav

if TYPE_CHECKING:
    from mockinterview.speech.tape import SessionTape

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".webm", ".aac"}


@dataclass
class AnswerRequest:
    answer_index: int  # 0-based count of answers taken so far in the session
    turn_index: int
    prompt_text: str
    audio_path: Path  # where the answer's WAV must be written
    max_s: float = 300.0
    question_id: str | None = None
    hotwords: str | None = None


@dataclass
class CapturedAnswer:
    audio_path: Path | None
    typed_text: str | None = None
    duration_s: float = 0.0
    end_reason: str = "file"
    stats: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, float]] = field(default_factory=list)  # (kind, time.monotonic())
    transcript: Transcript | None = None  # a streaming source may already have transcribed


class AnswerSource(Protocol):
    """Where answers come from: microphone | audio files | typed text | synthetic candidate.

    Declares everything the flow uses: ``tape`` (the whole-session recording, microphone
    sessions only), ``meter`` (the input level the UI draws while listening), ``on_warning`` (the
    flow sets it to speak "about N seconds left") and ``muted()`` (half duplex: what is captured
    while the interviewer speaks becomes silence). :class:`QuietSource` gives the defaults of a
    source with no device.
    """

    kind: str
    tape: SessionTape | None
    meter: Any
    on_warning: Callable[[float], None] | None

    def capture(self, req: AnswerRequest) -> CapturedAnswer: ...

    def muted(self) -> contextlib.AbstractContextManager[None]: ...


class QuietSource:
    """Defaults for an answer source without a device: no tape, no meter, nothing to mute."""

    tape: SessionTape | None = None
    meter: Any = None
    on_warning: Callable[[float], None] | None = None

    def muted(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


class FileAnswers(QuietSource):
    """Answer N is the N-th audio file (sorted by name) in a folder."""

    kind = "files"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise AudioError(f"{self.folder}: answers folder not found")
        self.files = audio_files(self.folder)
        if not self.files:
            raise AudioError(f"{self.folder}: no audio files (.wav, .flac, .ogg, .mp3) in the "
                             "answers folder")

    def capture(self, req: AnswerRequest) -> CapturedAnswer:
        if req.answer_index >= len(self.files):
            raise AudioError(f"{self.folder}: no answer file for answer {req.answer_index + 1} "
                             f"(the folder holds {len(self.files)})")
        src = self.files[req.answer_index]
        t0 = time.monotonic()
        samples = load_audio(src)  # raises AudioError naming the file
        write_wav(req.audio_path, samples, SAMPLE_RATE)
        return CapturedAnswer(audio_path=req.audio_path, duration_s=samples.size / SAMPLE_RATE,
                              end_reason="file", stats={"source_file": str(src)},
                              events=[("speech_start", t0), ("end_of_turn", time.monotonic())])


class TextAnswers(QuietSource):
    """Typed answers: from a prompt function (the terminal) or a scripted list."""

    kind = "text"

    def __init__(self, answers: Iterable[str] | None = None,
                 ask: Callable[[str], str] | None = None):
        self._scripted = list(answers) if answers is not None else None
        self._ask = ask or input

    def capture(self, req: AnswerRequest) -> CapturedAnswer:
        t0 = time.monotonic()
        if self._scripted is not None:
            if req.answer_index >= len(self._scripted):
                text = ""
            else:
                text = self._scripted[req.answer_index]
        else:
            try:
                text = self._ask("Your answer (Enter to finish): ")
            except EOFError:
                text = ""
        return CapturedAnswer(audio_path=None, typed_text=text.strip(), end_reason="typed",
                              events=[("speech_start", t0), ("end_of_turn", time.monotonic())])


def copy_into(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest
