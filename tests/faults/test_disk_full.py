"""Disk full and write errors under the recordings folder: a clear one-line stop, nothing lost.

RLIMIT_FSIZE on the real CLI process makes every write past the limit fail with EFBIG (Python
ignores SIGXFSZ), exactly where a full disk would fail: the program must stop with one
``error:`` line (exit 2, no traceback) and leave every file it saved before intact. A tiny tmpfs
mounted over the recordings folder gives the real ENOSPC.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mockinterview.speech.audio import load_audio
from mockinterview.store import load_session, session_dirs

from .common import (
    SPEECH,
    TYPED_ANSWER,
    cli_env,
    lost_answers,
    one_line_error,
    popen_cli,
    recorded_answers,
    run_cli,
)
from .ledger import record

LIMIT = 1_200_000  # bytes per file: above every spoken question, below a 40-second answer
PLAN = ["--no-play", "--engine", "offline", "--minutes", "10", "--sections",
        "introduction,technical", "--seed", "5"]


def _limit(nbytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return apply


def _check_stop(rec: Path, res, label: str, expect_in_message: str) -> None:
    line = one_line_error(res.err)
    (folder,) = session_dirs(rec)
    s = load_session(folder)  # what was saved before is intact: it parses
    lost = lost_answers(recorded_answers(s, folder), s, folder)
    ok = res.code == 2 and line is not None and expect_in_message in line and not lost
    record("disk full", ok, lost=len(lost), note=f"{label}: exit {res.code}, {res.err[-300:]!r}")
    assert res.code == 2, res.err[-1500:]
    assert line is not None, f"not one clear error line:\n{res.err[-1500:]}"
    assert expect_in_message in line, line
    assert "cannot write" in line or "No space" in line or "too large" in line, line
    assert not lost, lost
    leftovers = [p for p in folder.rglob(".*.tmp")]
    assert not leftovers, leftovers


def test_answer_wav_larger_than_the_file_size_limit(faults_tmp, answer_dir):
    """The second answer (41 s of real speech, 1.3 MB at 16 kHz) cannot be written."""
    folder = faults_tmp / "big-answer"
    folder.mkdir()
    short = sorted(answer_dir.iterdir())[0]
    (folder / "a000.wav").symlink_to(short.resolve())
    long_speech = np.concatenate([load_audio(p) for p in sorted(SPEECH.glob("*.*"))
                                  if p.suffix in (".wav", ".flac")])
    sf.write(folder / "a001.wav", long_speech, 16000, subtype="PCM_16")
    for n in range(2, 12):
        (folder / f"a{n:03d}.wav").symlink_to(short.resolve())
    rec = faults_tmp / "rec-big-answer"
    res = run_cli(["start", *PLAN, "--answers", str(folder)], cli_env(rec),
                  preexec_fn=_limit(LIMIT), timeout=120)
    _check_stop(rec, res, "answer WAV over RLIMIT_FSIZE", "turn-")
    (sess,) = session_dirs(rec)
    s = load_session(sess)
    assert any(t.answer_audio for t in s.turns), "the first answer was not kept"


def test_session_json_larger_than_the_file_size_limit(faults_tmp):
    """A pasted 1.3 MB answer makes session.json outgrow the limit: the earlier answer stays."""
    rec = faults_tmp / "rec-big-json"
    huge = (TYPED_ANSWER + " ") * (1_300_000 // len(TYPED_ANSWER))
    res = run_cli(["start", *PLAN, "--text"], cli_env(rec),
                  input=TYPED_ANSWER + "\n" + huge + "\n" + (TYPED_ANSWER + "\n") * 10,
                  preexec_fn=_limit(LIMIT), timeout=120)
    _check_stop(rec, res, "session.json over RLIMIT_FSIZE", "session.json")
    (sess,) = session_dirs(rec)
    assert any(t.transcript and t.transcript.text == TYPED_ANSWER
               for t in load_session(sess).turns), "the typed answer before the big one was lost"


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True)
    return r.returncode == 0


def test_tiny_tmpfs_fills_up_during_the_interview(faults_tmp, answer_dir):
    """Real ENOSPC. Found by this suite: espeak writing the question's WAV into a full disk made
    pyttsx3 raise inside its ctypes callback and runAndWait spin forever (fixed in speak.py:
    espeak renders into the temp folder, the copy into the session fails cleanly)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    rec = faults_tmp / "rec-tmpfs"
    if not _mount_tmpfs(rec, "400k"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        proc = popen_cli(["start", *PLAN, "--answers", str(answer_dir)], cli_env(rec))
        try:
            out, err = proc.communicate(timeout=15)
            hung = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            hung = True
        dirs = session_dirs(rec)
        s = load_session(dirs[0]) if dirs else None
        ok = not hung and proc.returncode == 2 and one_line_error(err) is not None
        record("disk full", ok, note="tmpfs 400k: " + ("hung in text-to-speech (killed after "
                                                       "15 s)" if hung else err[-200:]))
        assert not hung, "the interview hung when the disk filled up"
        assert proc.returncode == 2 and one_line_error(err), err[-1500:]
        if s is not None:
            assert not lost_answers(recorded_answers(s, dirs[0]), s, dirs[0])
    finally:
        subprocess.run(["umount", "-l", str(rec)], capture_output=True)
