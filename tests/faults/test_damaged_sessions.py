"""Damaged sessions: `sessions`, `show`, `report`, `resume` and `rescore` name the bad file in one
line and go on with the rest.

Real sessions are built once (runner + flow + store, real Whisper on real WAVs), then copies are
damaged the ways disks and people damage them: session.json cut short, not JSON, from an unknown
schema version; an answer WAV deleted or cut down to a few header bytes.
"""

from __future__ import annotations

import io
import json
import sys

import pytest

from mockinterview.config import Config
from mockinterview.store import load_session

from .builders import build_session, copy_session
from .common import TYPED_ANSWER, one_line_error, run_inproc
from .ledger import record

BAD_JSON = ["truncated-json", "invalid-json", "schema-99"]
BAD_WAV = ["missing-wav", "truncated-wav"]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, bank, transcriber, answer_dir):
    rec = tmp_path_factory.mktemp("damaged") / "recordings"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
        cfg = Config()
        done = build_session(cfg, bank, answers=answer_dir, transcriber=transcriber)
        partial = build_session(cfg, bank, answers=answer_dir, transcriber=transcriber,
                                stop_after=2, seed=4)
    assert load_session(done).status == "completed"
    assert load_session(partial).status == "in_progress"
    f = {"good": copy_session(done, "good"), "partial-missing-wav": copy_session(partial,
                                                                                "partial-missing-wav")}
    for name in BAD_JSON + BAD_WAV:
        f[name] = copy_session(done, name)
    text = (f["truncated-json"] / "session.json").read_text()
    (f["truncated-json"] / "session.json").write_text(text[: len(text) // 2])
    (f["invalid-json"] / "session.json").write_bytes(b'{"schema_version": 1, "id": \x00\xff nope')
    data = json.loads((f["schema-99"] / "session.json").read_text())
    data["schema_version"] = 99
    (f["schema-99"] / "session.json").write_text(json.dumps(data))
    wav = _first_answer(f["missing-wav"])
    wav.unlink()
    wav = _first_answer(f["truncated-wav"])
    wav.write_bytes(wav.read_bytes()[:30])
    _first_answer(f["partial-missing-wav"]).unlink()
    for p in (done, partial):  # only the named copies stay in the recordings folder
        import shutil

        shutil.rmtree(p)
    return rec, f


def _first_answer(folder):
    s = load_session(folder)
    rel = next(t.answer_audio for t in s.turns if t.answer_audio)
    return folder / rel


def _names_file(line: str | None, *parts: str) -> bool:
    return line is not None and all(p in line for p in parts)


def test_sessions_lists_the_good_and_names_each_bad_file(damaged, capsys, monkeypatch):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    r = run_inproc(["sessions"], capsys)
    skipped = [x for x in r.err.splitlines() if x.startswith("skipped:")]
    for name in BAD_JSON:
        lines = [x for x in skipped if f"{name}/session.json" in x]
        ok = r.code == 0 and len(lines) == 1
        record("damaged sessions", ok, note=f"sessions with {name}: {r.err[-300:]}")
        assert ok, r.err
    assert "schema_version 99" in next(x for x in skipped if "schema-99" in x)
    assert "truncated" in next(x for x in skipped if "truncated-json" in x)
    for name in ["good", "partial-missing-wav", *BAD_WAV]:
        assert name in r.out, f"{name} not listed:\n{r.out}"
    assert "Traceback" not in r.err


@pytest.mark.parametrize("command", ["show", "report", "resume"])
def test_commands_on_a_broken_session_json_say_which_file(damaged, capsys, monkeypatch, command):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    for name in BAD_JSON:
        args = [command, name] + (["--text", "--no-play"] if command == "resume" else [])
        r = run_inproc(args, capsys)
        line = one_line_error(r.err)
        ok = r.code == 2 and _names_file(line, name, "session.json")
        record("damaged sessions", ok, note=f"{command} {name}: exit {r.code} {r.err[-300:]!r}")
        assert ok, f"{command} {name}: exit {r.code}\n{r.err}"


def test_rescore_skips_the_broken_and_rescores_the_rest(damaged, capsys, monkeypatch):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    before = len(load_session(f["truncated-wav"]).scoring_runs)
    r = run_inproc(["rescore", *BAD_JSON, "truncated-wav", "missing-wav"], capsys)
    skipped = [x for x in r.err.splitlines() if "skipped:" in x]
    for name in BAD_JSON:
        ok = sum(1 for x in skipped if f"{name}/session.json" in x) == 1
        record("damaged sessions", ok, note=f"rescore {name}: {r.err[-300:]!r}")
        assert ok, r.err
    assert r.code == 1 and "Traceback" not in r.err, r.err
    for name in BAD_WAV:  # the transcripts are intact, so these are rescored
        ok = len(load_session(f[name]).scoring_runs) == before + 1
        record("damaged sessions", ok, note=f"rescore {name} did not save a run")
        assert ok


@pytest.mark.parametrize("name", BAD_WAV)
def test_report_with_a_bad_wav_is_written_and_names_the_file(damaged, capsys, monkeypatch, name):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    wav = _first_answer(f[name])
    r = run_inproc(["report", name], capsys)
    written = (f[name] / "report.html").exists() and (f[name] / "feedback.md").exists()
    named = wav.name in r.out + r.err
    ok = r.code == 0 and written and named
    record("damaged sessions", ok, note=f"report {name}: exit {r.code}, written {written}, "
                                        f"names {wav.name}: {named}")
    assert r.code == 0 and written, r.err
    assert named, f"report of {name} does not say that {wav.name} is missing or unreadable:\n" \
                  f"{r.out}{r.err}"


def test_resume_with_a_missing_wav_completes_and_keeps_the_rest(damaged, capsys, monkeypatch):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    folder = f["partial-missing-wav"]
    before = load_session(folder)
    kept = {t.index: t.answer_audio for t in before.turns if t.answer_audio}
    monkeypatch.setattr(sys, "stdin", io.StringIO((TYPED_ANSWER + "\n") * 40))
    r = run_inproc(["resume", folder.name, "--text", "--no-play"], capsys)
    after = load_session(folder)
    ok = r.code == 0 and after.status == "completed" and all(
        after.turns[i].answer_audio == a for i, a in kept.items())
    record("damaged sessions", ok, note=f"resume partial-missing-wav: exit {r.code} {r.err[-300:]}")
    assert ok, r.err


@pytest.mark.parametrize("name", BAD_WAV)
def test_show_with_a_bad_wav_names_the_file_and_shows_the_rest(damaged, capsys, monkeypatch,
                                                               name):
    rec, f = damaged
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    wav = _first_answer(f[name])
    r = run_inproc(["show", name], capsys)
    warn = [x for x in r.err.splitlines() if wav.name in x]
    ok = r.code == 0 and len(warn) == 1 and "A:" in r.out
    record("damaged sessions", ok, note=f"show {name}: exit {r.code} {r.err[-300:]!r}")
    assert ok, f"exit {r.code}\n{r.out[-500:]}\n{r.err}"
