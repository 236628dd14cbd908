"""Secrets: with a marker API key in the environment, no command writes it to any file, log line,
report or message - including when the endpoint fails and echoes the key back in its errors."""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from mockinterview.store import session_dirs
from mockinterview.testing.openai_server import (
    RecordedRequest,
    ScriptedOpenAIServer,
    ScriptedReply,
    canned_interviewer,
)

from .common import TYPED_ANSWER, run_inproc
from .ledger import record

MARKER = "sk-faults-MARKER-7c1e9b2d4a6f8e0c51"
PIECES = [MARKER, "MARKER-7c1e9b2d", "7c1e9b2d4a6f8e0c51"]  # whole, or echoed in part
MODEL = "scripted-model"
PLAN = ["--text", "--no-play", "--engine", "llm", "--minutes", "5", "--sections",
        "introduction,technical"]


def echoing(req: RecordedRequest) -> ScriptedReply:
    """A failing endpoint that echoes the key it was given, as real servers do."""
    key = req.headers.get("authorization", "").removeprefix("Bearer ")
    if "question_score" in str(req.body.get("response_format")):
        return ScriptedReply.server_error(500).__class__(
            status=500, error={"message": f"upstream failed for key {key}", "type": "server_error"})
    return ScriptedReply(status=401, error={
        "message": f"Incorrect API key provided: {key}. Find your key at example.com.",
        "type": "invalid_request_error", "code": "invalid_api_key"})


def _leaks(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


def _scan(roots: list[Path], since: float) -> list[str]:
    found = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                try:
                    st = p.stat()
                    if st.st_mtime < since or st.st_size > 50_000_000 or not p.is_file():
                        continue
                    data = p.read_bytes()
                except OSError:
                    continue
                if any(x.encode() in data for x in PIECES):
                    found.append(str(p))
    return found


def test_marker_key_reaches_no_file_log_or_output(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    since = time.time() - 1
    rec = tmp_path / "recordings"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("OPENAI_API_KEY", MARKER)
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    monkeypatch.setenv("MOCKINTERVIEW_LLM_MODEL", MODEL)
    monkeypatch.setenv("MOCKINTERVIEW_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    tmp = tmp_path / "tmp"  # temporary files the program makes land here, where we scan
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    (home / "config.toml").write_text("[llm]\ntimeout_live_s = 1.0\ntimeout_final_s = 2.0\n"
                                      "max_retries = 1\n")
    outputs: list[tuple[str, str]] = []
    timings: list[str] = []

    def run(label: str, args: list[str], stdin: str | None = None, codes=(0,)):
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        t0 = time.monotonic()
        r = run_inproc(args, capsys)
        timings.append(f"{label} {time.monotonic() - t0:.1f}s")
        outputs.append((label, r.out + r.err))
        assert "Traceback" not in r.err, f"{label}: {r.err[-1500:]}"
        assert r.code in codes, f"{label}: exit {r.code}: {r.err[-1500:]}"
        return r

    answers = (TYPED_ANSWER + "\n") * 30
    with ScriptedOpenAIServer(models=[MODEL], handler=canned_interviewer) as good:
        monkeypatch.setenv("OPENAI_BASE_URL", good.base_url)
        run("start (llm)", ["start", *PLAN, "--seed", "1"], answers)
        (sid,) = [d.name for d in session_dirs(rec)]
        run("report", ["report", sid])
        run("rescore (llm)", ["rescore", sid, "--engine", "llm"])
        run("show", ["show", sid])
        run("sessions", ["sessions"])
        run("annotate", ["annotate", sid, "--turn", "1", "--comment", "fine", "--level",
                         "correctness=3"], codes=(0, 2))
        run("doctor", ["doctor"], codes=(0, 1))
        assert good.requests[0].headers["authorization"] == f"Bearer {MARKER}"  # really sent
    with ScriptedOpenAIServer(models=[MODEL], handler=echoing) as bad:
        monkeypatch.setenv("OPENAI_BASE_URL", bad.base_url)
        run("start (echoing endpoint)", ["start", *PLAN, "--seed", "2"], answers)
        run("rescore (echoing endpoint)", ["rescore", "latest", "--engine", "llm"])
        run("doctor (echoing endpoint)", ["doctor"], codes=(0, 1))
        assert any(MARKER in r.headers.get("authorization", "") for r in bad.requests)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # refused
    run("start (refused)", ["start", *PLAN, "--seed", "3"], answers)
    dirs = session_dirs(rec)
    assert len(dirs) == 3
    echoed = [d for d in dirs if "[redacted]" in (d / "session.json").read_text()]
    assert echoed, "the echoed key never reached a fault record: the scrubbing went untested"
    leaks = [label for label, text in outputs if _leaks(text)]
    if _leaks(caplog.text):
        leaks.append("log records")
    files = _scan([tmp_path], since)
    print("secrets:", ", ".join(timings))
    for label, _ in outputs:
        record("secrets", label not in leaks, note=f"{label}: the key was printed")
    record("secrets", not files, note=f"key written to {files[:3]}")
    record("secrets", "log records" not in leaks, note="the key was logged")
    assert not leaks, leaks
    assert not files, files


def test_every_configured_secret_is_scrubbed_from_stored_text(tmp_path, monkeypatch, capsys):
    """Issue 16: a key from ``llm.api_key_file`` (no environment variable), a base URL's password
    and a token in any variable named like one, typed by the candidate into answers, reach no
    stored file; the typed words around them are kept."""
    from .ledger import attack

    rec = tmp_path / "recordings"
    home = tmp_path / "home"
    home.mkdir()
    file_key = "sk-file-KEY-" + os.urandom(8).hex()
    url_pw = "pw-" + os.urandom(8).hex()
    env_token = "hf_" + os.urandom(10).hex()
    key_file = home / "key.txt"
    key_file.write_text(file_key + "\n")
    key_file.chmod(0o600)
    (home / "config.toml").write_text(
        f"[llm]\napi_key_file = \"{key_file}\"\nbase_url = \"http://me:{url_pw}@127.0.0.1:9/v1\"\n")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    monkeypatch.setenv("MOCKINTERVIEW_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("HF_TOKEN", env_token)
    secrets_ = {"api_key_file": file_key, "base_url password": url_pw, "HF_TOKEN": env_token}
    answer = (f"My key is {file_key}, the password {url_pw} and the token {env_token}, "
              "and I would start with a baseline.")
    monkeypatch.setattr(sys, "stdin", io.StringIO((answer + "\n") * 30))
    r = run_inproc(["start", "--text", "--no-play", "--engine", "offline", "--minutes", "5",
                    "--sections", "introduction,technical", "--seed", "4"], capsys)
    assert r.code == 0, r.err[-1500:]
    (folder,) = session_dirs(rec)
    r2 = run_inproc(["report", folder.name], capsys)
    assert r2.code == 0, r2.err[-1500:]
    stored = [p for p in rec.rglob("*") if p.is_file()]
    for label, value in secrets_.items():
        found = [str(p) for p in stored if value.encode() in p.read_bytes()]
        attack("secrets", not found, f"{label} written to {found[:3]}")
        assert not found, (label, found)
    text = (folder / "session.json").read_text()
    assert "[redacted]" in text and "I would start with a baseline" in text
