"""Per-run overhead of the coding sandbox: a trivial solution, one trivial case, wall time per run.

Compares the full sandbox (namespaces, Landlock, seccomp, limits) with the bare fallback (a plain
child process with limits) and with starting ``python -I -B -c pass``, so the cost of each layer is
visible. Usage::

    .venv/bin/python benchmarks/coding_runner.py [--runs 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mockinterview.coding.checks import static_checks
from mockinterview.coding.sandbox import SandboxOptions, run_solution, sandbox_description
from mockinterview.schema import CodingSpec, TestCase

SPEC = CodingSpec(function="add", signature="def add(a, b):",
                  starter="def add(a, b):\n    raise NotImplementedError\n",
                  cases=[TestCase(args=[1, 2], expected=3)], time_limit_s=5)
SOLUTION = "def add(a, b):\n    return a + b\n"


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"median_ms": round(statistics.median(ms), 1),
            "p90_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.9))], 1),
            "min_ms": round(ms[0], 1)}


def measure(runs: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench-add.py"
        path.write_text(SOLUTION)
        modes = {
            "full sandbox": SandboxOptions(),
            "no namespaces": SandboxOptions(namespaces=False),
            "fallback (limits only)": SandboxOptions(namespaces=False, landlock=False,
                                                     seccomp=False, drop_privileges=False),
        }
        for name, opts in modes.items():
            run_solution(path, SPEC, options=opts)  # warm the caches (unshare probe, ruff)
            samples = []
            for _ in range(runs):
                t0 = time.perf_counter()
                run = run_solution(path, SPEC, options=opts)
                samples.append(time.perf_counter() - t0)
                if run.passed != 1:
                    raise SystemExit(f"{name}: unexpected verdict {run.verdict!r}")
            out[name] = _stats(samples)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-I", "-B", "-c", "pass"], check=True)
            samples.append(time.perf_counter() - t0)
        out["python -I -B -c pass"] = _stats(samples)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            static_checks(SOLUTION, SPEC)
            samples.append(time.perf_counter() - t0)
        out["static checks alone"] = _stats(samples)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps({"runs": args.runs, "protections": sandbox_description(),
                          "results": result}, indent=2))
        return
    print(f"coding sandbox, {args.runs} runs each (run_solution wall time incl. static checks)")
    for name, s in result.items():
        print(f"  {name:24s} median {s['median_ms']:7.1f} ms   p90 {s['p90_ms']:7.1f} ms   "
              f"min {s['min_ms']:7.1f} ms")


if __name__ == "__main__":
    main()
