"""History that stays fast: listing, progress and `show latest` answer from the index, which
re-reads only the folders added or changed since (by hand too) and forgets removed ones."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mockinterview import store
from mockinterview.cli.app import app
from mockinterview.clock import SimulatedClock
from mockinterview.config import load_config
from mockinterview.review.server import add_annotation
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.session.progress import trends
from mockinterview.speech.listen import TextAnswers
from mockinterview.store import SESSION_FILE, index_trends, list_sessions, sync_index

WEAK = "I am not sure. It is something about data."
STRONG = ("Bias is the error from overly simple assumptions, so the model underfits, while "
          "variance is the sensitivity to the training sample, so the model overfits. "
          "Regularisation, more data or bagging lower variance; cross validation picks the depth.")


@pytest.fixture(scope="module")
def small_sessions(tmp_path_factory, bank):
    """Two real scored sessions from the flow with typed answers (weak, then strong)."""
    rec = tmp_path_factory.mktemp("history-src")
    mp = pytest.MonkeyPatch()
    mp.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    try:
        out = []
        for seed, answers in ((1, [WEAK, WEAK]), (2, [STRONG, STRONG])):
            plan = make_plan(bank, "data-scientist", "mid", 30, sections=["technical"],
                             seed=seed, per_section={"technical": 2})
            session, folder = new_session(load_config(), plan, "offline", "tiny.en", "text")
            run_interview(load_config(), session, folder, TextAnswers(answers),
                          RunOptions(play=False, max_follow_ups=0), bank=bank,
                          clock=SimulatedClock(), ui=RecordingUI())
            out.append(folder)
    finally:
        mp.undo()
    return out


def clone(src: Path, rec: Path, name: str, **changes) -> Path:
    """A copy of a session folder made by hand, with its own id (and any field changed)."""
    dest = rec / name
    shutil.copytree(src, dest)
    data = json.loads((dest / SESSION_FILE).read_text())
    data["id"] = name
    for key, value in changes.items():
        if key == "role":
            data["plan"]["role"] = value
        else:
            data[key] = value
    (dest / SESSION_FILE).write_text(json.dumps(data))
    return dest


def reread(rec: Path) -> int:
    """How many folders the next sync reads (its progress callback runs once per folder)."""
    seen = [0]

    def count(done: int, total: int) -> None:
        seen[0] = total

    sync_index(rec, count)
    return seen[0]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """A console wide enough that rich does not cut the ids (CI's console is 80 columns)."""
    import importlib

    from rich.console import Console

    cli = importlib.import_module("mockinterview.cli.app")  # the module (`cli.app` is the app)

    monkeypatch.setattr(cli, "console", Console(width=200))
    monkeypatch.setattr(cli, "err_console", Console(width=400, stderr=True))


def listed(*args: str) -> list[str]:
    result = CliRunner().invoke(app, ["sessions", *args])
    assert result.exit_code == 0, result.output
    return [line.split("│")[1].strip() for line in result.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip().startswith("2026")]


def test_listing_notices_folders_added_changed_and_removed_by_hand(small_sessions, recordings):
    weak, strong = small_sessions
    for n in range(3):
        clone(weak, recordings, f"20261101-10000{n}-copy", created=f"2026-11-0{n + 1}T10:00:00Z")
    assert listed() == [f"20261101-10000{n}-copy" for n in range(3)]
    assert reread(recordings) == 0  # warm: nothing re-read
    clone(strong, recordings, "20261101-100009-added")
    assert reread(recordings) == 1 and "20261101-100009-added" in listed()
    edited = recordings / "20261101-100001-copy" / SESSION_FILE
    data = json.loads(edited.read_text())
    data["status"] = "aborted"
    edited.write_text(json.dumps(data))
    assert listed("--status", "aborted") == ["20261101-100001-copy"]
    shutil.rmtree(recordings / "20261101-100000-copy")
    assert "20261101-100000-copy" not in listed()
    assert reread(recordings) == 0


def test_a_damaged_or_duplicated_folder_is_one_line_until_fixed(small_sessions, recordings):
    weak, _ = small_sessions
    good = clone(weak, recordings, "20261102-100000-good")
    bad = clone(weak, recordings, "20261102-100001-bad")
    text = (bad / SESSION_FILE).read_text()
    (bad / SESSION_FILE).write_text(text[: len(text) // 2])
    shutil.copytree(good, recordings / "20261102-100002-twin")  # same id as `good`
    result = CliRunner().invoke(app, ["sessions"])
    assert result.exit_code == 0
    assert "20261102-100001-bad/session.json" in result.stderr and "truncated" in result.stderr
    assert "20261102-100002-twin/session.json: id 20261102-100000-good is also the session in " \
        "20261102-100000-good" in result.stderr
    assert listed() == ["20261102-100000-good"]
    (bad / SESSION_FILE).write_text(text)  # fixed by hand: listed again
    assert "20261102-100001-bad" in listed()


def test_filters_by_role_status_and_date(small_sessions, recordings):
    weak, _ = small_sessions
    clone(weak, recordings, "20261103-100000-old", created="2026-10-01T09:00:00Z")
    clone(weak, recordings, "20261103-100001-new", created="2026-11-20T09:00:00Z",
          role="genai-engineer")
    assert listed("--since", "2026-11-01") == ["20261103-100001-new"]
    assert listed("--role", "genai-engineer") == ["20261103-100001-new"]
    assert listed("--role", "data-scientist", "--status", "completed") == \
        ["20261103-100000-old"]
    rows, total = list_sessions(recordings, since=datetime(2026, 11, 1, tzinfo=UTC))
    assert total == 1 and rows[0].job is None  # not planned for a job
    bad = CliRunner().invoke(app, ["sessions", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since yesterday" in bad.output
    assert len(listed("--limit", "1")) == 1


def test_progress_from_the_index_equals_progress_from_the_folders(small_sessions, recordings,
                                                                  tmp_path):
    weak, strong = small_sessions
    a = clone(weak, recordings, "20261104-100000-a", created="2026-11-01T10:00:00Z")
    clone(strong, recordings, "20261104-100001-b", created="2026-11-02T10:00:00Z")
    clone(weak, recordings, "20261104-100002-c", created="2026-11-03T10:00:00Z")
    turn = next(t.index for t in store.load_session(a).turns if t.question_id)
    add_annotation(a, turn=turn, levels={"depth": 4})  # a reviewer series beside the AI's
    sync_index(recordings)
    want, got = trends(recordings), index_trends(recordings)
    for kind in ("criterion", "section"):
        assert sorted(got[kind]) == sorted(want[kind])
        for key, points in want[kind].items():
            assert [s for s, _ in got[kind][key]] == [s for s, _ in points]
            assert [v for _, v in got[kind][key]] == pytest.approx([v for _, v in points])
    assert "depth (reviewer)" in got["criterion"]
    since = index_trends(recordings, since=datetime(2026, 11, 2, tzinfo=UTC))
    assert [s for s, _ in since["section"]["technical"]] == ["20261104-100001-b",
                                                            "20261104-100002-c"]
    chart = tmp_path / "p.png"
    first = CliRunner().invoke(app, ["progress", "--chart", str(chart)])
    assert first.exit_code == 0 and "(unchanged)" not in first.stdout
    again = CliRunner().invoke(app, ["progress", "--chart", str(chart)])
    assert again.exit_code == 0 and "(unchanged)" in again.stdout  # not redrawn
    assert CliRunner().invoke(app, ["progress", "--job", "nothing"]).exit_code == 2


def test_show_latest_answers_from_the_index(small_sessions, recordings):
    weak, strong = small_sessions
    clone(weak, recordings, "20261105-100000-first")
    result = CliRunner().invoke(app, ["show", "latest"])
    assert result.exit_code == 0 and "20261105-100000-first" in result.stdout
    clone(strong, recordings, "20261105-100001-second")
    result = CliRunner().invoke(app, ["show", "latest"])
    assert result.exit_code == 0 and "20261105-100001-second" in result.stdout


def test_an_index_from_before_the_listing_migration_is_upgraded(small_sessions, recordings,
                                                                monkeypatch):
    weak, _ = small_sessions
    clone(weak, recordings, "20261106-100000-x")
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:2])  # the previous release's schema
        with store.open_index(recordings) as db:
            db.execute("INSERT INTO sessions VALUES ('stale','/gone','2026-01-01','ml-engineer',"
                       "'mid',30,'completed','offline',3.0,NULL)")
    assert listed() == ["20261106-100000-x"]  # stale rows gone, folders read once
    db = sqlite3.connect(recordings / "index.db")
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")]
    db.close()
    assert names == ["m001_initial", "m002_topics", "m003_listing"]


def test_progress_for_one_job_answers_from_the_index(small_sessions, recordings):
    weak, strong = small_sessions
    tailoring = {"job_name": "ds-experimentation", "job_sha256": "abcdef0123456789"}
    clone(weak, recordings, "20261107-100000-plain")
    clone(strong, recordings, "20261107-100001-job", tailoring=tailoring)
    assert listed() == ["20261107-100000-plain", "20261107-100001-job"]
    sync_index(recordings)
    for ref in ("ds-experimentation", "DS-Experimentation.md", "abcdef01"):
        got, want = index_trends(recordings, job=ref), trends(recordings, job=ref)
        for kind in ("criterion", "section"):
            assert sorted(got[kind]) == sorted(want[kind])
            for key, points in want[kind].items():
                assert [s for s, _ in got[kind][key]] == [s for s, _ in points]
                assert [v for _, v in got[kind][key]] == pytest.approx([v for _, v in points])
        assert [s for s, _ in got["section"]["technical"]] == ["20261107-100001-job"]
    assert index_trends(recordings, job="abc")["section"] == {}  # too short for a hash prefix
    ok = CliRunner().invoke(app, ["progress", "--job", "ds-experimentation.md"])
    assert ok.exit_code == 0, ok.output
    none = CliRunner().invoke(app, ["progress", "--job", "ml-platform"])
    assert none.exit_code == 2 and "no scored sessions for the job" in none.output
