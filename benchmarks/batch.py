"""Throughput of `batch transcribe`: in-process, and on a local Ray instance with 1 and 2 workers.

The job: ``--sessions`` generated sessions, each with one answer per real speech clip of
../shared/speech (about 41 s of speech per session), re-transcribed with the embedded
tiny.en (or ``--model``).
Each configuration runs the same job (a new job each time, so nothing is resumed) on workers
that have already loaded the model (startup is reported apart: Ray's own start, then each
actor's model load), and reports wall time, seconds of audio per second, and the speed-up of 2
workers over 1 (one decoding thread each), and over 1 worker decoding with every core. The
in-process path decodes with every core. The load average is printed: the machine is shared.

Goal (issue 20): >= 1.7x with 2 workers on 2 cores. Usage::

    .venv/bin/python benchmarks/batch.py [--sessions 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT.parent / "shared" / "speech"
CLIPS = ["jfk.flac", "ljspeech_LJ001-0001.wav", "ls_test_1995-1837-0001.wav",
         "ls_dev_2412-153948-0000.flac"]


def make_sessions(rec: Path, n: int) -> list[Path]:
    from mockinterview.schema import Plan, PlannedSection, Session, Transcript, Turn
    from mockinterview.speech.audio import load_audio, write_wav
    from mockinterview.store import save_session

    clips = [load_audio(SPEECH / c) for c in CLIPS]
    out = []
    for k in range(n):
        folder = rec / f"20261201-1000{k:02d}-bench"
        (folder / "audio").mkdir(parents=True)
        turns = []
        for i, audio in enumerate(clips):
            rel = f"audio/turn-{i:03d}-answer.wav"
            write_wav(folder / rel, audio)
            turns.append(Turn(index=i, section="technical", question_id="tech-bias-variance",
                              prompt_text="A question?", answer_audio=rel,
                              transcript=Transcript(text="", duration_s=audio.size / 16000)))
        plan = Plan(role="ml-engineer", level="mid", minutes=10, sections=[
            PlannedSection(section="technical", budget_s=200,
                           question_ids=["tech-bias-variance"])])
        save_session(Session(id=folder.name, plan=plan, turns=turns, status="completed"),
                     folder)
        out.append(folder)
    return out


ANSWER = ("Bias is the error from overly simple assumptions, so the model underfits; variance is "
          "the sensitivity to the training sample, so it overfits. Regularisation, bagging and "
          "more data lower variance; a more flexible model lowers bias. We picked the tree "
          "depth with cross validation and compared learning curves on a held out set.")


def rescore_rate(n_sessions: int) -> dict:
    """`batch rescore` in-process with the offline engine: answers scored per second (the
    unit of the programme's arithmetic: a re-score after a rubric change)."""
    from mockinterview.coach.batch import BatchOptions, RescoreKind, run_batch
    from mockinterview.config import load_config
    from mockinterview.schema import Plan, PlannedSection, Session, Transcript, Turn
    from mockinterview.store import save_session

    with tempfile.TemporaryDirectory(prefix="mi-rescore-bench-") as tmp:
        rec = Path(tmp) / "recordings"
        folders = []
        qids = ["tech-bias-variance", "tech-overfitting", "tech-dropout",
                "tech-gradient-descent"]
        for k in range(n_sessions):
            folder = rec / f"20261201-1100{k:02d}-rescore"
            folder.mkdir(parents=True)
            turns = [Turn(index=i, section="technical", question_id=q, prompt_text="A question?",
                          transcript=Transcript(text=ANSWER, source="text"))
                     for i, q in enumerate(qids)]
            plan = Plan(role="ml-engineer", level="mid", minutes=10, sections=[
                PlannedSection(section="technical", budget_s=400, question_ids=qids)])
            save_session(Session(id=folder.name, plan=plan, turns=turns, status="completed"),
                         folder)
            folders.append(folder)
        kind = RescoreKind(load_config())
        summary = run_batch(kind, folders, rec, BatchOptions(in_process=True))
        answers = summary.answers
        return {"sessions": n_sessions, "answers": answers, "failed": len(summary.failed),
                "problems": len(summary.problems), "elapsed_s": round(summary.elapsed_s, 2),
                "answers_per_s": round(answers / summary.elapsed_s, 1)}


def run(label: str, kind, folders, rec, options, pool) -> dict:
    from mockinterview.coach.batch import run_batch

    summary = run_batch(kind, folders, rec, options, pool=pool)
    if summary.failed:
        raise SystemExit(f"{label}: failed sessions {summary.failed}")
    row = {"workers": summary.workers, "backend": summary.backend,
           "answers": summary.answers, "audio_s": round(summary.audio_s, 1),
           "elapsed_s": round(summary.elapsed_s, 2),
           # workers' decoding time / wall time: 2 workers busy at once give 2.0; if the wall
           # time does not drop, each decode ran slower, i.e. the cores were busy elsewhere
           "parallelism": round(summary.worker_s / summary.elapsed_s, 2),
           "decode_s_per_audio_s": round(summary.worker_s / summary.audio_s, 3),
           "audio_s_per_s": round(summary.audio_per_s, 2)}
    print(f"{label}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return row


def measure(n_sessions: int, repeats: int = 1, model: str = "tiny.en") -> dict:
    import ray

    from mockinterview.coach.batch import (
        BatchOptions,
        InProcessPool,
        RayPool,
        TranscribeKind,
        TranscribeWorker,
    )

    cores = os.cpu_count() or 2
    out: dict = {"cores": cores, "sessions": n_sessions, "model": model}
    with tempfile.TemporaryDirectory(prefix="mi-batch-bench-") as tmp:
        rec = Path(tmp) / "recordings"
        folders = make_sessions(rec, n_sessions)

        kind = TranscribeKind(model, threads=cores)
        t0 = time.perf_counter()
        pool = InProcessPool(TranscribeWorker, kind.worker_args())
        out["in_process_model_load_s"] = round(time.perf_counter() - t0, 2)
        out["in_process"] = max((run("in-process", kind, folders, rec,
                                     BatchOptions(in_process=True, new_job=True), pool)
                                 for _ in range(repeats)), key=lambda r: r["audio_s_per_s"])

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        t0 = time.perf_counter()
        ray.init(num_cpus=cores, include_dashboard=False, _node_ip_address="127.0.0.1",
                 logging_level=logging.ERROR, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT / "src")}})
        out["ray_start_s"] = round(time.perf_counter() - t0, 2)
        try:
            # (workers, decoding threads each): 1 and 2 single-threaded workers measure how the
            # job scales across actors; 1 worker with every core is the best one actor can do
            for workers, threads in ((1, 1), (2, 1), (1, cores)):
                label = f"ray_{workers}" if threads == 1 else f"ray_{workers}x{threads}_threads"
                options = BatchOptions(workers=workers, threads=threads, new_job=True)
                kind = TranscribeKind(model, threads=options.decode_threads())
                t0 = time.perf_counter()
                pool = RayPool(TranscribeWorker, kind.worker_args(), options)
                pool.pids()  # returns once every actor has loaded its model
                ready = round(time.perf_counter() - t0, 2)
                rows = []
                try:
                    for _ in range(repeats):
                        rows.append(run(label, kind, folders, rec, options, pool))
                finally:
                    pool.close()
                row = max(rows, key=lambda r: r["audio_s_per_s"])  # the least disturbed run
                row["actors_ready_s"] = ready
                row["threads_per_worker"] = options.decode_threads()
                out[label] = row
        finally:
            ray.shutdown()
    one, two = out["ray_1"]["audio_s_per_s"], out["ray_2"]["audio_s_per_s"]
    out["speedup_2_over_1"] = round(two / one, 2) if one else None
    out["speedup_2_over_in_process"] = round(two / out["in_process"]["audio_s_per_s"], 2)
    best = out[f"ray_1x{cores}_threads"]["audio_s_per_s"]
    out["speedup_2_over_1_worker_with_every_core"] = round(two / best, 2) if best else None
    out["load_average_1min"] = round(os.getloadavg()[0], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=4, help="0: the rescore rate only")
    ap.add_argument("--repeats", type=int, default=1, help="runs per configuration (the best "
                                                          "is kept: the machine is shared)")
    ap.add_argument("--rescore", type=int, default=20,
                    help="sessions for the in-process rescore rate (0: skip)")
    ap.add_argument("--model", default="tiny.en", help="e.g. base (after `mockinterview models "
                                                        "fetch base`)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = measure(args.sessions, args.repeats, args.model) if args.sessions else {}
    if args.rescore:
        result["rescore_in_process"] = rescore_rate(args.rescore)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key in [k for k in result if k == "in_process" or k.startswith("ray_")
                and isinstance(result[k], dict)]:  # (none with --sessions 0)
        r = result[key]
        print(f"{key:>11}: {r['answers']} answers, {r['audio_s']} s of audio in "
              f"{r['elapsed_s']} s = {r['audio_s_per_s']} audio s/s")
    if args.sessions:
        print(f"speed-up, 2 workers over 1: {result['speedup_2_over_1']}x "
              f"(over in-process: {result['speedup_2_over_in_process']}x); Ray start "
              f"{result['ray_start_s']} s; load average {result['load_average_1min']}")
    if "rescore_in_process" in result:
        r = result["rescore_in_process"]
        print(f"rescore in-process (offline engine): {r['answers']} answers in {r['elapsed_s']} s"
              f" = {r['answers_per_s']} answers/s")


if __name__ == "__main__":
    main()
