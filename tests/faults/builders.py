"""Build real sessions in-process (runner + flow + store, offline engine, simulated clock)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mockinterview.clock import SimulatedClock
from mockinterview.config import Config
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.speech.listen import (
    AnswerRequest,
    CapturedAnswer,
    FileAnswers,
    QuietSource,
    TextAnswers,
)

SECTIONS = ["introduction", "technical", "feedback"]


class StopAfterAnswersForTests(QuietSource):
    """Wraps a real answer source and raises KeyboardInterrupt (Ctrl-C) after ``n`` answers,
    leaving a genuinely interrupted, in-progress session behind."""

    def __init__(self, inner, n: int):
        self.inner = inner
        self.kind = inner.kind
        self.n = n

    def capture(self, req: AnswerRequest) -> CapturedAnswer:
        if req.answer_index >= self.n:
            raise KeyboardInterrupt
        return self.inner.capture(req)


def build_session(cfg: Config, bank, *, answers: Path | None = None, typed: list[str] | None = None,
                  transcriber=None, stop_after: int | None = None, seed: int = 3,
                  minutes: int = 10) -> Path:
    plan = make_plan(bank, "ml-engineer", "mid", minutes, sections=SECTIONS, seed=seed)
    source = FileAnswers(answers) if answers else TextAnswers(typed or [])
    session, folder = new_session(cfg, plan, "offline", "tiny.en", source.kind)
    if stop_after is not None:
        source = StopAfterAnswersForTests(source, stop_after)
    try:
        run_interview(cfg, session, folder, source, RunOptions(engine="offline", play=False),
                      ui=RecordingUI(), bank=bank, clock=SimulatedClock(),
                      transcriber=transcriber)
    except KeyboardInterrupt:
        pass
    return folder


def copy_session(folder: Path, name: str) -> Path:
    """A copy of a session folder under a new id (the id inside session.json follows)."""
    dest = folder.parent / name
    shutil.copytree(folder, dest, symlinks=False)
    p = dest / "session.json"
    data = json.loads(p.read_text())
    data["id"] = name
    p.write_text(json.dumps(data, indent=2))
    for f in ("report.html", "feedback.md"):
        (dest / f).unlink(missing_ok=True)
    return dest
