"""Kill the real CLI (SIGKILL) in the middle of each section; `resume` finishes the session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mockinterview.store import load_session, session_dirs

ANSWER = ("First I would define the problem and the metric, because everything else depends on "
          "it. For example, in my last project we used precision and recall on a held out set, "
          "and we compared a simple baseline with gradient boosting before choosing.")


def _cli(args: list[str], env: dict, answers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mockinterview", *args], env=env, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _feed(proc: subprocess.Popen, n: int) -> None:
    try:
        proc.stdin.write((ANSWER + "\n") * n)
        proc.stdin.flush()
    except BrokenPipeError:
        pass


def _section_of(folder: Path) -> tuple[int, int]:
    try:
        data = json.loads((folder / "session.json").read_text())
    except (OSError, ValueError):
        return -1, 0
    return data["cursor"].get("section", 0), len(data["turns"])


SECTIONS_TO_KILL = ["introduction", "technical", "coding", "behavioral", "system_design"]


@pytest.mark.parametrize("section", SECTIONS_TO_KILL)
def test_sigkill_in_a_section_then_resume_completes_and_loses_nothing(recordings, bank, section):
    env = dict(os.environ, MOCKINTERVIEW_RECORDINGS=str(recordings), PYTHONUNBUFFERED="1")
    args = ["start", "--text", "--no-play", "--minutes", "30", "--seed", "7"]
    proc = _cli(args, env, 0)
    target = None
    deadline = time.monotonic() + 120
    killed_at_turns = 0
    fed = 0
    fed_at = time.monotonic()
    while time.monotonic() < deadline:
        dirs = session_dirs(recordings)
        if dirs:
            folder = dirs[0]
            data = json.loads((folder / "session.json").read_text() or "{}")
            names = [p["section"] for p in data["plan"]["sections"]]
            if section not in names:
                proc.kill()
                pytest.skip(f"plan has no {section} section")
            target = names.index(section)
            sec, turns = _section_of(folder)
            if sec == target and turns > killed_at_turns and turns >= 1:
                # inside the target section, after at least one answer there
                answered = [t for t in data["turns"] if t["section"] == section]
                if answered:
                    proc.send_signal(signal.SIGKILL)
                    killed_at_turns = turns
                    break
            if sec > target >= 0:
                proc.kill()
                pytest.fail("the interview passed the section before it could be killed")
        if proc.poll() is not None:
            pytest.fail(f"interview ended early: {proc.stderr.read()[-500:]}")
        # One answer in flight at a time: the next is fed only once the last one is on disk (or
        # after a quiet spell, should a line ever be consumed without making a turn). Feeding
        # ahead let a fast interview finish the target section between two polls.
        recorded_turns = _section_of(dirs[0])[1] if dirs else 0
        if fed < 40 and (recorded_turns >= fed or time.monotonic() - fed_at > 3):
            _feed(proc, 1)
            fed += 1
            fed_at = time.monotonic()
        time.sleep(0.05)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    (folder,) = session_dirs(recordings)
    before = load_session(folder)  # parses after the kill
    recorded = [(t.index, t.transcript.text) for t in before.turns if t.transcript]
    assert before.status == "in_progress"

    proc = _cli(["resume", folder.name, "--text", "--no-play"], env, 0)
    out, err = proc.communicate((ANSWER + "\n") * 80, timeout=180)
    assert proc.returncode == 0, err[-800:]
    after = load_session(folder)
    assert after.status == "completed"
    kept = {t.index: t.transcript.text for t in after.turns if t.transcript}
    for index, text in recorded:
        assert kept.get(index) == text  # nothing recorded before the kill is lost
    assert any(e.kind == "resume" for e in after.events)
    assert (folder / "feedback.md").exists()


def test_a_killed_demo_resumes_with_its_synthetic_candidate(recordings):
    """`resume latest` goes on the way the session began: a demo with its synthetic candidate
    (no microphone here, so any other source would fail with "no input device")."""
    env = dict(os.environ, MOCKINTERVIEW_RECORDINGS=str(recordings), PYTHONUNBUFFERED="1")
    proc = _cli(["demo", "--no-play"], env, 0)
    deadline = time.monotonic() + 300
    folder = None
    while time.monotonic() < deadline and proc.poll() is None:
        dirs = session_dirs(recordings)
        if dirs and _section_of(dirs[0])[1] >= 2:
            folder = dirs[0]
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=10)
    assert folder is not None and proc.returncode == -signal.SIGKILL, proc.stderr.read()[-500:]
    before = load_session(folder)
    assert before.status == "in_progress" and before.answer_source == "demo"

    done = subprocess.run([sys.executable, "-m", "mockinterview", "resume", "latest", "--no-play"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-800:]
    assert "with demo answers" in done.stdout
    after = load_session(folder)
    assert after.status == "completed"
    resumed_at = next(i for i, e in enumerate(after.events) if e.kind == "resume")
    assert resumed_at > 0
    spoken = [t.capture.get("demo_text") for t in after.turns[len(before.turns):] if t.answer_audio]
    assert spoken and all(spoken), "every answer after the resume is the synthetic candidate's"
