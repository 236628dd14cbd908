"""Fixtures shared by the fault suite, and the summary table printed at the end of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from .ledger import ATTACK_CLASSES, ATTACKS, CLASSES, DETAILS, SEED, TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if ATTACKS:
        _attack_table(terminalreporter)
    if not TALLY:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Fault injection (FAULTS_SEED={SEED})")
    for col in ("fault class", "injected", "survived", "recorded answers lost"):
        table.add_column(col, justify="left" if col == "fault class" else "right")
    total = [0, 0, 0]
    for name in CLASSES + sorted(set(TALLY) - set(CLASSES)):
        if name not in TALLY:
            continue
        t = TALLY[name]
        style = "green" if t.survived == t.injected and t.lost == 0 else "red"
        table.add_row(name, str(t.injected), f"[{style}]{t.survived}[/]",
                      f"[{'green' if t.lost == 0 else 'red'}]{t.lost}[/]")
        total[0] += t.injected
        total[1] += t.survived
        total[2] += t.lost
    table.add_row("[bold]total[/]", str(total[0]), str(total[1]), str(total[2]))
    console = Console(file=terminalreporter._tw._file, force_terminal=False, width=100)
    console.print(table)
    for line in DETAILS:
        console.print(line, highlight=False, markup=False)
    for name, t in TALLY.items():
        for note in t.notes[:5]:
            console.print(f"  {name}: {note}", highlight=False, markup=False)


@pytest.fixture(scope="session")
def faults_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def answer_dir(faults_tmp) -> Path:
    from .common import make_answer_dir

    return make_answer_dir(faults_tmp / "answer-audio")


def _attack_table(terminalreporter) -> None:
    """Security: each attack class, how many attempts were made and how many every layer held."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Attacks (issue 16)")
    for col in ("attack class", "attempts", "held"):
        table.add_column(col, justify="left" if col == "attack class" else "right")
    tried = held = 0
    for name in ATTACK_CLASSES + sorted(set(ATTACKS) - set(ATTACK_CLASSES)):
        if name not in ATTACKS:
            continue
        t = ATTACKS[name]
        style = "green" if t.survived == t.injected else "red"
        table.add_row(name, str(t.injected), f"[{style}]{t.survived}[/]")
        tried += t.injected
        held += t.survived
    table.add_row("[bold]total[/]", str(tried), str(held))
    console = Console(file=terminalreporter._tw._file, force_terminal=False, width=100)
    console.print(table)
    for name, t in ATTACKS.items():
        for note in t.notes[:8]:
            console.print(f"  NOT HELD {name}: {note}", highlight=False, markup=False)
