"""How long `sessions`, `progress` and `show latest` take at 100, 1,000 and 10,000 sessions.

Each size is a recordings folder of copies of one small scored session (a real interview of the
demo's questions with typed answers, each copy with its own id and date), made in seconds by
writing the session.json only. Every command runs as a real process (interpreter start
included), cold (no index.db: the first run after a bulk copy) and warm (the next run). For
contrast, the folder walk the listing used before the index (every session.json parsed:
``progress.trends``) is timed in-process up to ``--old-max`` sessions.

Wall and CPU time are both printed: on a shared machine the wall time swings with the load.
Goal (issue 20): `sessions` and `progress` under 0.5 s warm at 10,000 sessions. Usage::

    .venv/bin/python benchmarks/history.py [--sizes 100,1000,10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def template_session(work: Path) -> str:
    """session.json of one real, scored interview (typed answers to the demo's questions)."""
    from mockinterview.bank import load_bank
    from mockinterview.clock import SimulatedClock
    from mockinterview.config import load_config
    from mockinterview.demo import DEMO_ANSWERS, demo_plan
    from mockinterview.runner import RunOptions, new_session, run_interview
    from mockinterview.session.flow import RecordingUI
    from mockinterview.speech.listen import TextAnswers

    os.environ["MOCKINTERVIEW_RECORDINGS"] = str(work / "template")
    bank = load_bank()
    plan = demo_plan(bank)
    qids = [q for sec in plan.sections for q in sec.question_ids]
    answers = [DEMO_ANSWERS[q][0] for q in qids] + ["No more questions, thank you."] * 3
    cfg = load_config()
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "text")
    run_interview(cfg, session, folder, TextAnswers(answers),
                  RunOptions(play=False, max_follow_ups=0), bank=bank, clock=SimulatedClock(),
                  ui=RecordingUI())
    data = json.loads((folder / "session.json").read_text())
    data["id"] = "@@ID@@"
    data["created"] = "@@CREATED@@"
    return json.dumps(data, indent=2)


def grow(rec: Path, template: str, have: int, want: int) -> None:
    """Add copies up to ``want`` sessions, one a day-minute apart, each with its own id."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(have, want):
        when = start + timedelta(minutes=n)
        name = f"{when:%Y%m%d-%H%M%S}-data-scientist-{n:05d}"
        d = rec / name
        d.mkdir(mode=0o700)
        (d / "session.json").write_text(template.replace("@@ID@@", name)
                                        .replace("@@CREATED@@", when.isoformat()))


def cli(rec: Path, *args: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one real `mockinterview ...` process. On a
    shared machine the wall time swings with the load; the CPU time is what the command costs."""
    env = {**os.environ, "MOCKINTERVIEW_RECORDINGS": str(rec),
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"),
                                                     os.environ.get("PYTHONPATH")) if p)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "mockinterview", *args], env=env,
                         capture_output=True, text=True)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"mockinterview {' '.join(args)} failed: {out.stderr.strip()[:300]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(took, 3), round(cpu, 3)


def best(rec: Path, runs: int, *args: str) -> tuple[float, float]:
    """The fastest of ``runs`` warm runs (wall, CPU): the least disturbed by other work."""
    results = [cli(rec, *args) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results)


def cold(rec: Path) -> None:
    for name in ("index.db", "index.db-wal", "index.db-shm", "progress.png"):
        (rec / name).unlink(missing_ok=True)


def measure(sizes: list[int], old_max: int) -> dict:
    from mockinterview.session.progress import trends

    out: dict = {"sizes": {}}
    with tempfile.TemporaryDirectory(prefix="mi-history-") as tmp:
        work = Path(tmp)
        template = template_session(work)
        out["session_json_bytes"] = len(template.encode())
        rec = work / "recordings"
        rec.mkdir()
        have = 0
        for size in sorted(sizes):
            t0 = time.perf_counter()
            grow(rec, template, have, size)
            have = size
            row: dict = {"generate_s": round(time.perf_counter() - t0, 2)}
            cold(rec)
            row["sessions_cold_s"], row["sessions_cold_cpu_s"] = cli(rec, "sessions")
            row["sessions_warm_s"], row["sessions_warm_cpu_s"] = best(rec, 5, "sessions")
            cold(rec)
            row["progress_cold_s"], row["progress_cold_cpu_s"] = cli(rec, "progress")
            row["progress_warm_s"], row["progress_warm_cpu_s"] = best(rec, 5, "progress")
            row["show_latest_warm_s"], row["show_latest_warm_cpu_s"] = \
                best(rec, 3, "show", "latest")
            # the floor every command pays: interpreter, typer, rich and pydantic imports
            row["python_start_s"], row["python_start_cpu_s"] = best(rec, 5, "--help")
            if size <= old_max:
                t0 = time.perf_counter()
                trends(rec)
                row["old_folder_walk_s"] = round(time.perf_counter() - t0, 3)
            out["sizes"][str(size)] = row
            print(f"{size:>6} sessions: {json.dumps(row)}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--old-max", type=int, default=1000,
                    help="time the old folder walk up to this many sessions")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = measure([int(s) for s in args.sizes.split(",")], args.old_max)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"session.json: {result['session_json_bytes']} bytes; seconds wall / CPU")
    cols = ("sessions_cold", "sessions_warm", "progress_cold", "progress_warm",
            "show_latest_warm", "python_start")
    print(f"{'sessions':>9} " + " ".join(f"{c:>17}" for c in cols) + f" {'old walk':>9}")
    for size, r in result["sizes"].items():
        cells = " ".join(f"{r[c + '_s']:>8.2f}/{r[c + '_cpu_s']:<8.2f}" for c in cols)
        print(f"{size:>9} {cells} {r.get('old_folder_walk_s', '-'):>9}")


if __name__ == "__main__":
    main()
