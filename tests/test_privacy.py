"""Recordings are private to their owner; sessions can be deleted, expire, and move between
machines with their checksums verified. Real CLI processes, real files, a real other user."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mockinterview.archive import delete_session, export_session, import_session
from mockinterview.cli.app import app
from mockinterview.errors import SessionError
from mockinterview.store import INDEX_FILE, load_session, open_index, save_session

ANSWER = ("I would start from a simple baseline, then compare gradient boosting on a held out "
          "set using precision and recall, because the classes are imbalanced.")


def _cli(recordings: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, MOCKINTERVIEW_RECORDINGS=str(recordings), PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "mockinterview", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def typed_session(tmp_path_factory) -> Path:
    """A real typed interview run by the CLI under a permissive umask (022)."""
    rec = tmp_path_factory.mktemp("private") / "recordings"
    old = os.umask(0o022)
    try:
        done = _cli(rec, "start", "--text", "--no-play", "--minutes", "10", "--sections",
                    "technical,coding", "--seed", "3", stdin=(ANSWER + "\n") * 30)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr[-800:]
    assert _cli(rec, "report", "latest").returncode == 0
    return rec


def test_every_folder_is_0700_and_every_file_0600(typed_session):
    rec = typed_session
    paths = [rec, *rec.rglob("*")]
    kinds = {p.suffix for p in paths if p.is_file()}
    assert {".json", ".wav", ".md", ".html", ".db", ".py"} <= kinds, kinds
    loose = [f"{p}: {stat.filemode(p.stat().st_mode)}" for p in paths
             if stat.S_IMODE(p.lstat().st_mode) != (0o700 if p.is_dir() else 0o600)]
    assert loose == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_local_user_can_read_nothing(typed_session):
    rec = typed_session
    session = next(rec.glob("*/session.json"))
    probe = ("import os, sys\n"
             "for p in sys.argv[1:]:\n"
             "    try:\n"
             "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read(1)\n"
             "        print('READ', p)\n"
             "    except PermissionError:\n"
             "        print('DENIED', p)\n")

    def as_nobody() -> None:
        os.setgid(65534)
        os.setgroups([])
        os.setuid(65534)

    # the tmp folders above the recordings are traversable; the recordings are not
    for p in rec.parents:
        if p == Path("/"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o005)
    system_python = "/usr/bin/python3"  # the venv's interpreter may itself be unreadable to others
    if not os.access(system_python, os.X_OK):
        pytest.skip("no system python3 to run as another user")
    out = subprocess.run([system_python, "-I", "-c", probe, str(rec), str(session),
                          str(rec / INDEX_FILE)], preexec_fn=as_nobody, capture_output=True,
                         text=True, timeout=60)
    lines = out.stdout.split("\n")
    assert [ln.split()[0] for ln in lines if ln] == ["DENIED"] * 3, out.stdout + out.stderr


def test_an_older_looser_recordings_folder_is_tightened(tmp_path):
    rec = tmp_path / "recordings"
    rec.mkdir(mode=0o755)
    os.chmod(rec, 0o755)
    with open_index(rec):
        pass
    assert stat.S_IMODE(rec.stat().st_mode) == 0o700
    assert stat.S_IMODE((rec / INDEX_FILE).stat().st_mode) == 0o600


def test_export_import_round_trip_and_tampering(typed_session, tmp_path):
    rec = typed_session
    folder = next(p for p in rec.iterdir() if (p / "session.json").exists())
    archive = export_session(folder, tmp_path / "s.zip")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    other = tmp_path / "other-machine"
    dest = import_session(archive, other)
    assert load_session(dest).id == folder.name
    same = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not p.name.startswith("."))
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == same
    with open_index(other) as db:
        assert db.execute("SELECT folder FROM sessions").fetchall() == [(str(dest),)]
    again = import_session(archive, other)  # the same archive twice: a new name, a new id
    assert again != dest and load_session(again).id == again.name

    # one altered byte in one answer: refused, and nothing reaches the recordings folder
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tampered, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("session.json"):
                data = data.replace(b'"completed"', b'"aborted"  ')
            out.writestr(info, data)
    fresh = tmp_path / "fresh"
    with pytest.raises(SessionError, match="checksum mismatch"):
        import_session(tampered, fresh)
    assert [p for p in fresh.iterdir() if p.name != INDEX_FILE] == []

    # a member escaping the folder (zip slip) is refused before anything is written
    evil = tmp_path / "evil.zip"
    manifest = {"format": "mockinterview-session/1", "session": "x",
                "files": {"../../escape.txt": "0" * 64}}
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("x/../../escape.txt", "boom")
    with pytest.raises(SessionError, match="unsafe path"):
        import_session(evil, tmp_path / "evil-dest")
    assert not (tmp_path / "escape.txt").exists()


def test_delete_and_prune(typed_session, tmp_path, monkeypatch):
    import shutil

    rec = tmp_path / "rec"
    shutil.copytree(typed_session, rec)
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    (folder,) = [p for p in rec.iterdir() if (p / "session.json").exists()]
    s = load_session(folder)
    copy = rec / (folder.name + "-old")
    shutil.copytree(folder, copy)
    old = s.model_copy(update={"id": copy.name,
                               "created": datetime.now(UTC) - timedelta(days=40)})
    save_session(old, copy)

    runner = CliRunner()
    dry = runner.invoke(app, ["prune", "--keep-days", "30", "--dry-run"])
    assert dry.exit_code == 0 and "would delete" in dry.output and copy.name in dry.output
    assert copy.exists()
    assert runner.invoke(app, ["prune"]).exit_code == 2  # no retention configured: says so
    done = runner.invoke(app, ["prune", "--keep-days", "30", "--yes"])
    assert done.exit_code == 0, done.output
    assert not copy.exists() and folder.exists()

    asked = runner.invoke(app, ["delete", folder.name], input="n\n")
    assert asked.exit_code == 1 and folder.exists()
    with open_index(rec) as db:
        db.execute("INSERT OR REPLACE INTO sessions (id, folder, created) VALUES (?,?,?)",
                   (s.id, str(folder), s.created.isoformat()))
    gone = runner.invoke(app, ["delete", folder.name, "--yes"])
    assert gone.exit_code == 0 and not folder.exists()
    with open_index(rec) as db:
        assert db.execute("SELECT COUNT(*) FROM sessions WHERE id=?", (s.id,)).fetchone() == (0,)
    with pytest.raises(SessionError):
        delete_session(rec, tmp_path)  # not a session folder of these recordings
