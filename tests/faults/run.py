"""Run the fault suite alone: ``python tests/faults/run.py [pytest args]`` or
``python -m tests.faults``. The summary table is printed by the suite's conftest at the end;
``FAULTS_SEED=<n>`` replays the random kill times of a previous run."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    import pytest

    args = list(sys.argv[1:] if argv is None else argv)
    return int(pytest.main([str(HERE), "-q", "-p", "no:cacheprovider", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
