"""What the suite injected and what the program survived, per fault class, for the summary table.

Every test records each fault it injects here, then asserts on the outcome; the table is printed
at the end of the pytest run (see conftest.py), so the figures come from the run itself.
"""

from __future__ import annotations

import os
import random
import threading
from collections import defaultdict
from dataclasses import dataclass, field

CLASSES = ["crashes", "disk full", "damaged sessions", "audio inputs", "devices", "model server",
           "concurrency", "fuzzing", "secrets"]


@dataclass
class Tally:
    injected: int = 0
    survived: int = 0
    lost: int = 0  # recorded answers that were not on disk (or not playable) afterwards
    notes: list[str] = field(default_factory=list)


TALLY: dict[str, Tally] = defaultdict(Tally)


def _seed() -> int:
    env = os.environ.get("FAULTS_SEED", "").strip()
    return int(env) if env else random.SystemRandom().randrange(1, 10**6)


SEED = _seed()
_LOCK = threading.Lock()


def rng(name: str) -> random.Random:
    """A random generator per test, derived from the run's seed (FAULTS_SEED replays it)."""
    return random.Random(f"{SEED}:{name}")


def record(klass: str, survived: bool, *, injected: int = 1, lost: int = 0,
           note: str | None = None) -> None:
    """Count one injected fault (or ``injected`` of them) and whether the program survived it."""
    with _LOCK:
        t = TALLY[klass]
        t.injected += injected
        t.survived += injected if survived else 0
        t.lost += lost
        if note and (not survived or lost):
            t.notes.append(note)


DETAILS: list[str] = []


def detail(text: str) -> None:
    """A line printed under the summary table (e.g. how the kills were spread)."""
    with _LOCK:
        DETAILS.append(text)


ATTACK_CLASSES = ["sandbox: forged verdicts", "sandbox: reading files", "sandbox: environment",
                  "sandbox: sockets", "sandbox: processes and signals", "sandbox: resources",
                  "review server", "secrets", "hostile session files"]
ATTACKS: dict[str, Tally] = defaultdict(Tally)


def attack(klass: str, held: bool, note: str | None = None) -> None:
    """Count one attack attempt and whether every protection held against it."""
    with _LOCK:
        t = ATTACKS[klass]
        t.injected += 1
        t.survived += 1 if held else 0
        if note and not held:
            t.notes.append(note)
