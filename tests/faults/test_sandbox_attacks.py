"""Hostile solutions against the real coding sandbox (issue 16).

Each solution in ``hostile/`` tries one way to pass hidden cases it cannot solve, or to read what it
must not: the expected values are random tokens, so the only way to return one is to find it - in
the harness's objects, the question bank file, a key file under a home, the interview's environment
or memory, or from a honeypot server on a Unix socket (file system and abstract) or TCP. An attack
held when no case passed, the token appears nowhere in the run's record, no honeypot server was
reached and neither the interview's process nor a decoy holding the key in its environment received
a signal. Each runs with every layer, and again without namespaces (Landlock, seccomp and the uid
drop alone).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from mockinterview.coding import sandbox
from mockinterview.schema import CodingSpec, TestCase

from .ledger import attack

HOSTILE = Path(__file__).resolve().parent / "hostile"
ATTACK_FILES = sorted(HOSTILE.glob("*.py"))
PREFIX = "MIHONEY-"
MODES = {"all layers": sandbox.SandboxOptions(),
         "no namespaces": sandbox.SandboxOptions(namespaces=False)}


class Honeypot:
    """Where the secret token lives during a run, and what noticed an attack."""

    def __init__(self, root: Path):
        self.root = root
        self.token = PREFIX + secrets.token_hex(10)
        self.home = root / "home"
        (self.home / ".ssh").mkdir(parents=True)
        (self.home / ".ssh" / "id_ed25519").write_text(f"-----KEY {self.token} -----\n")
        self.bank = root / "bank.yaml"
        self.bank.write_text("questions:\n- id: c1\n  coding:\n    cases:\n"
                             + "".join(f"    - args: [{i}]\n      expected: '{self.token}'\n"
                                       for i in range(4)))
        # A stand-in for the interview's process, started with the key in its environment
        # (what /proc/<pid>/environ shows is a process's initial environment).
        self.decoy = subprocess.Popen(["sleep", "600"], env={"OPENAI_API_KEY": self.token})
        self.hits: list[str] = []
        self.signals: list[int] = []
        self.sock_path = str(root / "h.sock")
        self.abstract = f"mi-honeypot-{secrets.token_hex(4)}"
        self._servers = []
        for fam, addr in ((socket.AF_UNIX, self.sock_path), (socket.AF_UNIX, "\0" + self.abstract),
                          (socket.AF_INET, ("127.0.0.1", 0))):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.bind(addr)
            s.listen(8)
            s.settimeout(0.2)
            self._servers.append(s)
        self.port = self._servers[2].getsockname()[1]
        self._stop = threading.Event()
        self.planted = set(root.rglob("*"))
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True)
                         for s in self._servers]
        for t in self._threads:
            t.start()

    def _serve(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            self.hits.append(str(server.getsockname()))
            try:
                conn.sendall(self.token.encode())
            finally:
                conn.close()

    def code(self, path: Path) -> str:
        text = path.read_text()
        for key, value in {"{BANK}": str(self.bank), "{HOME}": str(self.home),
                           "{ROOT}": str(self.root), "{SOCK}": self.sock_path,
                           "{ABSTRACT}": self.abstract, "{PORT}": str(self.port),
                           "{PARENT_PID}": str(os.getpid()), "{DECOY_PID}": str(self.decoy.pid),
                           "{MARKER_PREFIX}": PREFIX}.items():
            text = text.replace(key, value)
        return text

    def spec(self) -> CodingSpec:
        return CodingSpec(function="solve", signature="def solve(n)",
                          starter="def solve(n):\n    raise NotImplementedError\n",
                          cases=[TestCase(args=[i], expected=self.token) for i in range(4)],
                          time_limit_s=4, memory_mb=512)

    def close(self) -> None:
        self.decoy.kill()
        self.decoy.wait()
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for s in self._servers:
            s.close()


@pytest.fixture
def honeypot(tmp_path, monkeypatch):
    pot = Honeypot(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", pot.token)
    monkeypatch.setenv("HOME", str(pot.home))
    old = signal.signal(signal.SIGUSR1, lambda signum, frame: pot.signals.append(signum))
    try:
        yield pot
    finally:
        signal.signal(signal.SIGUSR1, old)
        pot.close()


def _klass(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    return first.removeprefix("# class:").strip()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("path", ATTACK_FILES, ids=[p.stem for p in ATTACK_FILES])
def test_hostile_solution_passes_nothing_and_reads_nothing(honeypot, tmp_path, path, mode):
    sol = tmp_path / "solution.py"
    sol.write_text(honeypot.code(path))
    run = sandbox.run_solution(sol, honeypot.spec(), "c1", MODES[mode])
    # The report shows each case's expected value, as repr(token): any other occurrence is a leak.
    record = run.model_dump_json().replace(repr(honeypot.token), "")
    problems = []
    if run.passed:
        problems.append(f"{run.passed} cases passed")
    if honeypot.token in record:
        problems.append("the secret token reached the run's record")
    if honeypot.hits:
        problems.append(f"reached {honeypot.hits}")
    if honeypot.signals or honeypot.decoy.poll() is not None:
        problems.append("signalled the interview")
    if not run.verdict:
        problems.append("no verdict")
    written = sorted(str(p) for p in honeypot.root.rglob("*") if p not in honeypot.planted
                     and p != sol) + [p for p in ("/tmp/mockinterview-pwned.txt",)
                                      if os.path.exists(p)]
    if written:
        problems.append(f"wrote {written[:3]}")
    attack(_klass(path), not problems, f"{path.stem} ({mode}): {'; '.join(problems)}")
    assert not problems, f"{path.stem} ({mode}): {problems}; verdict: {run.verdict}"
    if mode == "all layers":
        assert not run.sandbox_missing, run.sandbox_missing


def test_control_a_solution_that_knows_the_token_passes_and_can_read_its_own_folder(
        honeypot, tmp_path):
    """The honeypot is not vacuous: knowing the token passes every case, and the solution's own
    folder stays readable (only what is outside it is hidden)."""
    sol = tmp_path / "solution.py"
    sol.write_text("import os\n"
                   "def solve(n):\n"
                   "    assert 'def solve' in "
                   "open(os.path.join(os.getcwd(), 'solution.py')).read()\n"
                   f"    return {honeypot.token!r}\n")
    run = sandbox.run_solution(sol, honeypot.spec(), "c1")
    assert run.passed == run.total == 4, run.verdict
    assert "landlock-read" in run.sandbox and "seccomp" in run.sandbox


def test_a_missing_layer_is_recorded_on_the_run(honeypot, tmp_path):
    sol = tmp_path / "solution.py"
    sol.write_text("def solve(n):\n    return None\n")
    run = sandbox.run_solution(sol, honeypot.spec(), "c1",
                              sandbox.SandboxOptions(namespaces=False, seccomp=False))
    assert {"netns", "pidns", "procfs", "seccomp"} <= set(run.sandbox_missing)
    assert "landlock-read" in run.sandbox and "landlock-read" not in run.sandbox_missing


def test_the_project_bank_cannot_be_imported_to_look_up_the_cases(tmp_path):
    """A solution for a real bank question that imports the interview's package to find its own
    hidden cases: the package (editable source folder or installed copy) is outside what the child
    may read, so the import fails and no case passes."""
    from mockinterview.bank import load_bank

    question = next(q for q in load_bank().questions.values() if q.coding)
    spec = question.coding.model_copy(update={"time_limit_s": 20})
    sol = tmp_path / "solution.py"
    sol.write_text(
        "import glob, sys\n"
        "sys.path += ['/work/main/src', *glob.glob('/work/*/src')]\n"
        f"def {spec.function}(*args, **kwargs):\n"
        "    from mockinterview.bank import load_bank\n"
        f"    q = load_bank().questions[{question.id!r}]\n"
        "    for c in q.coding.cases:\n"
        "        if c.args == list(args) and c.kwargs == kwargs:\n"
        "            if c.raises:\n"
        "                raise getattr(__builtins__, c.raises, ValueError)('x')\n"
        "            return c.expected\n")
    run = sandbox.run_solution(sol, spec, question.id)
    held = run.passed == 0 and ("PermissionError" in run.verdict or "ModuleNotFoundError"
                                in run.verdict or "No module" in run.verdict)
    attack("sandbox: reading files", held, f"importing the bank: {run.verdict}")
    assert held, run.verdict
