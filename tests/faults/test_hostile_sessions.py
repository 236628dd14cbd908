"""Hostile session files (issue 16): markup in ids, a huge transcript, a deeply nested capture, a
symlinked lock file. Every command that reads them ends with output or one error line, never a
traceback; ``show`` bounds what it prints and says what it cut."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockinterview.testing.sessions import build_typed_session

from .common import one_line_error, run_inproc
from .ledger import attack

MARKUP = "x[/]y[bold red][link=file:///etc/passwd]z"


def _session(rec: Path, name: str, mutate, nest: int = 0) -> Path:
    folder = rec / name
    build_typed_session(folder)
    data = json.loads((folder / "session.json").read_text())
    mutate(data)
    text = json.dumps(data)
    if nest:  # nested deeper than json.dumps itself would write
        text = text.replace('"@NEST@"', '{"a": ' * nest + "{}" + "}" * nest)
    (folder / "session.json").write_text(text)
    return folder


def _markup(d: dict) -> None:
    d["id"] = MARKUP
    d["engine"] = "[/]"
    d["turns"][0]["question_id"] = MARKUP
    d["turns"][0]["prompt_text"] = MARKUP
    d["turns"][0]["transcript"]["text"] = MARKUP
    for run in d["scoring_runs"]:
        for s in run["scores"]:
            s["question_id"] = "[/]" + MARKUP
            for c in s["criteria"]:
                c["criterion"] = "[/]" + c["criterion"]


def _huge(d: dict) -> None:
    d["turns"][0]["transcript"]["text"] = "word " * (4 * 1024 * 1024)  # 20 MB of answer


def _nested(d: dict) -> None:
    d["turns"][0]["capture"] = "@NEST@"


@pytest.fixture
def rec(tmp_path, monkeypatch):
    r = tmp_path / "recordings"
    r.mkdir()
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(r))
    monkeypatch.setenv("MOCKINTERVIEW_CONFIG", str(tmp_path / "none.toml"))
    return r


def _held(label: str, ok: bool, note: str) -> None:
    attack("hostile session files", ok, f"{label}: {note}")


def test_markup_in_ids_and_texts_is_printed_not_parsed(rec, capsys):
    folder = _session(rec, "s-[red]markup", _markup)  # the folder's name too
    for args in (["show", folder.name], ["sessions"], ["progress"], ["report", folder.name],
                 ["annotate", folder.name, "--turn", "0", "--comment", MARKUP]):
        r = run_inproc(args, capsys)
        ok = r.code == 0 and "Traceback" not in r.err
        if args[0] == "show":
            ok = ok and MARKUP in r.out  # shown literally, brackets and all
        if args[0] == "sessions":
            ok = ok and folder.name in r.out
        _held(" ".join(args[:1]), ok, f"exit {r.code}: {r.err[-300:]}")
        assert ok, (args, r.code, r.err[-1000:])


def test_show_bounds_a_huge_transcript_and_says_what_it_cut(rec, capsys):
    folder = _session(rec, "s-huge", _huge)
    r = run_inproc(["show", folder.name], capsys)
    ok = (r.code == 0 and len(r.out) < 300_000 and "characters cut" in r.out
          and "long text(s) were cut" in r.err and "session.json" in r.err)
    _held("show (20 MB transcript)", ok, f"exit {r.code}, {len(r.out)} chars printed")
    assert ok, (r.code, len(r.out), r.err[-500:])


@pytest.mark.parametrize("command", ["annotate", "rescore"])
def test_a_deeply_nested_capture_is_one_line_naming_session_and_field(rec, capsys, command):
    folder = _session(rec, "s-nested", _nested, nest=900)
    args = (["annotate", folder.name, "--turn", "0", "--comment", "note"] if command == "annotate"
            else ["rescore", folder.name])
    r = run_inproc(args, capsys)
    line = one_line_error(r.err) if command == "annotate" else (
        r.err.strip() if "Traceback" not in r.err else None)
    ok = (r.code not in (0, -1) and line is not None and "s-nested" in line
          and "turns.0.capture" in line)
    _held(f"{command} (capture nested 900 deep)", ok, f"exit {r.code}: {r.err[-300:]}")
    assert ok, (r.code, r.err[-1000:])
    r = run_inproc(["show", folder.name], capsys)  # reading it still works
    assert r.code == 0 and "Traceback" not in r.err


def test_annotate_does_not_follow_a_symlinked_lock_file(rec, capsys, tmp_path):
    folder = _session(rec, "s-lock", lambda d: None)
    victim = tmp_path / "victim.txt"
    (folder / ".annotate.lock").symlink_to(victim)
    r = run_inproc(["annotate", folder.name, "--turn", "0", "--comment", "note"], capsys)
    line = one_line_error(r.err)
    ok = r.code == 2 and line is not None and "symlink" in line and not victim.exists()
    _held("annotate (symlinked lock file)", ok, f"exit {r.code}: {r.err[-300:]}")
    assert ok, (r.code, r.err[-500:], victim.exists())
