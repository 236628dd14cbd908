"""SIGKILL a real scripted interview at random moments, again and again, then resume it.

A session answered from a folder of short WAVs (offline engine, no playback) is killed at a random
time after start, or a random moment after its n-th save of session.json; each kill is followed by
checks (session.json parses, every answer recorded so far is on disk and playable) and by `resume`,
which may itself be killed. Every chain ends with a `resume` that completes the session.
``FAULTS_SEED`` replays the same kill times; ``FAULTS_KILLS`` sets how many kills (default 20).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from mockinterview.errors import SessionError
from mockinterview.store import load_session, session_dirs

from .common import cli_env, lost_answers, popen_cli, recorded_answers
from .ledger import SEED, detail, record, rng

KILLS = int(os.environ.get("FAULTS_KILLS", "20"))
WORKERS = 2  # independent chains run side by side (separate sessions, one recordings folder)
PLAN = ["--no-play", "--engine", "offline", "--minutes", "5", "--sections",
        "introduction,technical"]


def _kill_at_random(proc, folder_of, r) -> str | None:
    """Kill ``proc`` at a random moment; the moment's description, or None if it ended first."""
    if r.random() < 0.45:
        delay = r.uniform(0.2, 3.5)
        what = f"{delay:.2f} s after start"
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return None
            time.sleep(0.01)
    else:
        saves = r.randint(1, 3)
        jitter = r.uniform(0.0, 0.5)
        what = f"{jitter:.2f} s after save {saves} of session.json"
        seen, last = 0, None
        limit = time.monotonic() + 120
        while seen < saves and time.monotonic() < limit:
            if proc.poll() is not None:
                return None
            folder = folder_of()
            if folder is not None:
                try:
                    st = (folder / "session.json").stat()
                    mark = (st.st_mtime_ns, st.st_ino, st.st_size)
                except OSError:
                    mark = None
                if mark is not None and mark != last:
                    seen += 1 if last is not None or saves == 1 else 0
                    last = mark
            time.sleep(0.005)
        time.sleep(jitter)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return what


def _chains(worker: int, kills_wanted: int, rec: Path, answer_dir: Path, lock: threading.Lock,
            problems: list[str], stats: list[tuple[str, int]]) -> int:
    r = rng(f"crashes-{worker}")
    env = cli_env(rec)
    answers = ["--answers", str(answer_dir)]
    kills = 0
    chain = 0
    while kills < kills_wanted:
        chain += 1
        assert chain <= kills_wanted * 3, "too many chains without kills"
        with lock:  # the folder this chain's `start` creates is the one not seen before
            before_dirs = set(session_dirs(rec))
            proc = popen_cli(["start", *PLAN, *answers, "--seed", str(worker * 100 + chain)], env)
        folder: Path | None = None

        def folder_of(before_dirs: set = before_dirs) -> Path | None:
            nonlocal folder
            if folder is None:
                new = set(session_dirs(rec)) - before_dirs - claimed
                if new:
                    with lock:
                        new -= claimed
                        folder = min(new) if new else None
                        if folder is not None:
                            claimed.add(folder)
            return folder

        recorded: dict = {}
        per_chain = r.randint(6, 10)
        done = False
        for _ in range(per_chain):
            if kills >= kills_wanted:  # enough: let this resume run to the end
                break
            what = _kill_at_random(proc, folder_of, r)
            if what is None:  # finished before the kill: check it really completed
                out, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err[-800:]
                folder_of()
                done = True
                break
            kills += 1
            label = f"seed {SEED}, worker {worker}, chain {chain}, kill {kills} ({what})"
            folder_of()
            if folder is None:  # killed before the session existed: nothing was recorded
                record("crashes", True)
                done = True
                break
            try:
                s = load_session(folder)
            except SessionError as e:
                record("crashes", False, note=f"{label}: {e}")
                problems.append(f"{label}: session.json does not parse: {e}")
                done = True
                break
            lost = lost_answers(recorded, s, folder)
            now = recorded_answers(s, folder)
            lost += lost_answers(now, s, folder)  # answers named in the file must be playable
            record("crashes", not lost, lost=len(lost), note=f"{label}: {lost}")
            problems += [f"{label}: {x}" for x in lost]
            recorded.update(now)
            stats.append((what, len(recorded)))
            if s.status == "completed":
                done = True
                break
            proc = popen_cli(["resume", folder.name, *answers, "--no-play"], env)
        if done and folder is None:
            continue
        if not done:  # the last resume of the chain runs to the end
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, f"seed {SEED} chain {chain}: resume failed: {err[-800:]}"
        s = load_session(folder)
        lost = lost_answers(recorded, s, folder)
        problems += [f"seed {SEED} worker {worker} chain {chain} after resume: {x}" for x in lost]
        if lost:
            record("crashes", False, injected=0, lost=len(lost), note=str(lost))
        if s.status != "completed":
            problems.append(f"seed {SEED} worker {worker} chain {chain}: {s.status}")
        elif not done and not any(e.kind == "resume" for e in s.events):
            problems.append(f"seed {SEED} worker {worker} chain {chain}: no resume event")
    return kills


claimed: set[Path] = set()


def test_sigkill_at_random_moments_loses_nothing_and_resume_completes(answer_dir, faults_tmp):
    rec = faults_tmp / "crash-recordings"
    rec.mkdir()
    lock = threading.Lock()
    problems: list[str] = []
    stats: list[tuple[str, int]] = []  # (moment of the kill, answers on disk at that moment)
    counts = [0] * WORKERS
    errors: list[BaseException] = []
    started = time.monotonic()

    def work(w: int) -> None:
        try:
            mine = rec / f"worker-{w}"  # each worker knows its sessions: the only new folder
            counts[w] = _chains(w, -(-KILLS // WORKERS), mine, answer_dir, lock, problems,
                                stats)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    detail(f"crashes: {sum(counts)} SIGKILLs in {time.monotonic() - started:.0f} s, "
           f"{sum(1 for _, n in stats if n)} of them with answers already on disk "
           f"({max((n for _, n in stats), default=0)} at most); every session resumed to "
           "completion")
    print(f"crashes: {sum(counts)} kills in {time.monotonic() - started:.0f} s "
          f"(FAULTS_SEED={SEED}); {sum(1 for _, n in stats if n)} with answers already on disk, "
          f"{sum(n for _, n in stats)} answer checks; moments: "
          + "; ".join(f"{w} [{n} answers]" for w, n in stats))
    if errors:
        raise errors[0]
    assert not problems, "\n".join(problems)
    assert sum(counts) >= KILLS
