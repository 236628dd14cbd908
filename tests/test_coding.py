"""The coding challenge: real candidate code run in the real sandbox against the shipped bank.

Every run here starts the real runner process (namespaces, rlimits, Landlock, seccomp where the
kernel has them); nothing is faked. Hostile solutions get a short time limit so the file stays
quick.
"""

from __future__ import annotations

import ast
import json
import math
import os
import time
from pathlib import Path

import pytest

from mockinterview.bank import check_bank, load_bank
from mockinterview.coding import challenge as coding
from mockinterview.coding import checks, sandbox
from mockinterview.coding import sandbox_child as coding_runner
from mockinterview.errors import BankError
from mockinterview.schema import CodingRun, CodingSpec, KeyPoint, Question, TestCase

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_LIMIT_S = 2.0
# A run must end within its limit plus this allowance for process start and kill on a busy machine.
SLACK_S = 12.0


@pytest.fixture(scope="module")
def coding_bank():
    """The shipped bank's coding questions (load_bank; while other parts of the bank are still
    being written, the valid questions of a full check, provided coding.yaml itself is clean)."""
    try:
        bank = load_bank(ROOT / "rubrics")
    except BankError:
        bank, problems = check_bank(ROOT / "rubrics")
        assert not [p for p in problems if "coding.yaml" in p], problems
    questions = {q.id: q for q in bank.questions.values() if q.section == "coding"}
    assert len(questions) >= 12
    return questions


def _run(tmp_path: Path, question: Question, code: str, name: str = "solution",
         time_limit: float | None = None, options: sandbox.SandboxOptions | None = None
         ) -> CodingRun:
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    spec = question.coding
    assert spec is not None
    if time_limit is not None:
        spec = spec.model_copy(update={"time_limit_s": time_limit})
    return sandbox.run_solution(path, spec, question_id=question.id, options=options)


# ----------------------------------------------------------------------------- the shipped bank


def test_every_bank_starter_compiles_defines_the_function_and_fails_as_not_implemented(
        coding_bank, tmp_path):
    for qid, q in coding_bank.items():
        path = coding.write_starter(q, tmp_path / qid)
        assert path == tmp_path / qid / "code" / f"{qid}.py"
        text = path.read_text()
        tree = ast.parse(text, filename=str(path))
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert q.coding.function in names, qid
        run = sandbox.run_solution(path, q.coding)
        assert run.question_id == qid
        assert run.verdict == f"not implemented: {q.coding.function} raises NotImplementedError", \
            (qid, run.verdict)
        assert run.passed == 0 and run.total == len(q.coding.cases)
        assert all(c["error"] and "NotImplementedError" in c["error"] for c in run.cases), qid
        assert coding.level_for_tests(run) == 1 and coding.level_for_quality(run) == 1


def test_starter_is_not_overwritten_on_resume(coding_bank, tmp_path):
    q = coding_bank["code-accuracy"]
    path = coding.write_starter(q, tmp_path)
    path.write_text("def accuracy(a, b):\n    return 1.0\n")
    assert coding.write_starter(q, tmp_path) == path
    assert "return 1.0" in path.read_text()
    assert "accuracy([1, 0, 1, 1], [1, 0, 0, 1]) -> 0.75" in coding.starter_text(q)


ACCURACY = {
    "correct": (
        "def accuracy(y_true, y_pred):\n"
        "    if len(y_true) != len(y_pred) or not y_true:\n"
        "        raise ValueError('need equally long, non-empty lists')\n"
        "    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)\n"),
    "partial": (  # forgets both error cases
        "def accuracy(y_true, y_pred):\n"
        "    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)\n"),
    "wrong": (  # counts mistakes instead
        "def accuracy(y_true, y_pred):\n"
        "    if len(y_true) != len(y_pred) or not y_true:\n"
        "        raise ValueError('bad input')\n"
        "    return sum(t != p for t, p in zip(y_true, y_pred)) / len(y_true)\n"),
}

SOFTMAX = {
    "correct": (
        "import math\n\n"
        "def softmax(logits):\n"
        "    if not logits:\n"
        "        return []\n"
        "    m = max(logits)\n"
        "    e = [math.exp(x - m) for x in logits]\n"
        "    s = sum(e)\n"
        "    return [v / s for v in e]\n"),
    "partial": (  # not numerically stable: overflows on large logits
        "import math\n\n"
        "def softmax(logits):\n"
        "    if not logits:\n"
        "        return []\n"
        "    e = [math.exp(x) for x in logits]\n"
        "    return [v / sum(e) for v in e]\n"),
    "wrong": (  # scales by the largest logit
        "def softmax(logits):\n"
        "    s = max(logits)\n"
        "    return [x / s for x in logits]\n"),
}

MOVING_AVERAGE = {
    "correct": (
        "def moving_average(values, window):\n"
        "    if window < 1:\n"
        "        raise ValueError('window must be at least 1')\n"
        "    if window > len(values):\n"
        "        return []\n"
        "    total = sum(values[:window])\n"
        "    out = [total / window]\n"
        "    for i in range(window, len(values)):\n"
        "        total += values[i] - values[i - window]\n"
        "        out.append(total / window)\n"
        "    return out\n"),
    "partial": (  # no validation of the window
        "def moving_average(values, window):\n"
        "    return [sum(values[i:i + window]) / window "
        "for i in range(len(values) - window + 1)]\n"),
    "wrong": (  # a cumulative mean, not a moving one
        "def moving_average(values, window):\n"
        "    if window < 1:\n"
        "        raise ValueError('window')\n"
        "    return [sum(values[:i + 1]) / (i + 1) for i in range(len(values))]\n"),
}

CONFUSION = {
    "correct": (
        "def confusion_matrix(y_true, y_pred, labels=None):\n"
        "    if len(y_true) != len(y_pred):\n"
        "        raise ValueError('lengths differ')\n"
        "    if labels is None:\n"
        "        labels = sorted(set(y_true) | set(y_pred))\n"
        "    index = {label: i for i, label in enumerate(labels)}\n"
        "    matrix = [[0] * len(labels) for _ in labels]\n"
        "    for t, p in zip(y_true, y_pred):\n"
        "        if t not in index or p not in index:\n"
        "            raise ValueError(f'unknown label {t!r} or {p!r}')\n"
        "        matrix[index[t]][index[p]] += 1\n"
        "    return matrix\n"),
    "partial": (  # uses only the true labels, so a label seen only in predictions breaks it
        "def confusion_matrix(y_true, y_pred, labels=None):\n"
        "    if len(y_true) != len(y_pred):\n"
        "        raise ValueError('lengths differ')\n"
        "    labels = labels if labels is not None else sorted(set(y_true))\n"
        "    index = {label: i for i, label in enumerate(labels)}\n"
        "    matrix = [[0] * len(labels) for _ in labels]\n"
        "    for t, p in zip(y_true, y_pred):\n"
        "        matrix[index[t]][index[p]] += 1\n"
        "    return matrix\n"),
    "wrong": (  # rows and columns swapped
        "def confusion_matrix(y_true, y_pred, labels=None):\n"
        "    if len(y_true) != len(y_pred):\n"
        "        raise ValueError('lengths differ')\n"
        "    labels = labels if labels is not None else sorted(set(y_true) | set(y_pred))\n"
        "    index = {label: i for i, label in enumerate(labels)}\n"
        "    matrix = [[0] * len(labels) for _ in labels]\n"
        "    for t, p in zip(y_true, y_pred):\n"
        "        if t not in index or p not in index:\n"
        "            raise ValueError('unknown label')\n"
        "        matrix[index[p]][index[t]] += 1\n"
        "    return matrix\n"),
}

NGRAMS = {
    "correct": (
        "import re\nfrom collections import Counter\n\n"
        "def ngram_counts(text, n):\n"
        "    if n < 1:\n"
        "        raise ValueError('n must be at least 1')\n"
        "    tokens = re.findall(r'\\w+', text.lower())\n"
        "    return dict(Counter(' '.join(tokens[i:i + n]) "
        "for i in range(len(tokens) - n + 1)))\n"),
    "partial": (  # splits on whitespace, so case and punctuation survive
        "from collections import Counter\n\n"
        "def ngram_counts(text, n):\n"
        "    if n < 1:\n"
        "        raise ValueError('n must be at least 1')\n"
        "    tokens = text.split()\n"
        "    return dict(Counter(' '.join(tokens[i:i + n]) "
        "for i in range(len(tokens) - n + 1)))\n"),
    "wrong": (  # character n-grams
        "def ngram_counts(text, n):\n"
        "    out = {}\n"
        "    for i in range(len(text) - n + 1):\n"
        "        out[text[i:i + n]] = out.get(text[i:i + n], 0) + 1\n"
        "    return out\n"),
}

SOLUTIONS = {
    "code-accuracy": ACCURACY,
    "code-softmax": SOFTMAX,
    "code-moving-average": MOVING_AVERAGE,
    "code-confusion-matrix": CONFUSION,
    "code-ngram-counts": NGRAMS,
}


@pytest.mark.parametrize("qid", sorted(SOLUTIONS))
def test_correct_partial_and_wrong_solutions_get_the_right_verdicts(coding_bank, tmp_path, qid):
    q = coding_bank[qid]
    total = len(q.coding.cases)
    sols = SOLUTIONS[qid]

    good = _run(tmp_path, q, sols["correct"], "correct")
    assert good.verdict == f"all {total} cases passed", [c for c in good.cases if not c["passed"]]
    assert good.passed == total and coding.level_for_tests(good) == 5
    assert good.run_time_s > 0 and all(c["time_s"] is not None for c in good.cases)

    partial = _run(tmp_path, q, sols["partial"], "partial")
    assert 0 < partial.passed < total, partial.verdict
    assert partial.verdict.startswith(f"{partial.passed} of {total} cases passed"), partial.verdict
    failing = [c for c in partial.cases if not c["passed"]]
    assert all(c["diff"] or c["error"] for c in failing)
    assert 2 <= coding.level_for_tests(partial) <= 4

    wrong = _run(tmp_path, q, sols["wrong"], "wrong")
    assert wrong.passed < partial.passed or wrong.passed <= total // 2, wrong.verdict
    assert coding.level_for_tests(wrong) <= 3
    assert any("expected" in (c["diff"] or "") for c in wrong.cases if not c["passed"])


REFERENCE = Path(__file__).parent / "coding_solutions"


def test_every_bank_question_is_solved_by_a_reference_solution_in_the_sandbox(
        coding_bank, tmp_path):
    """A check of the bank and the sandbox together: each hidden case is reachable by real code
    (reference solutions: tests/coding_solutions/<id>.py, or the 'correct' ones above)."""
    missing = [qid for qid in coding_bank
               if qid not in SOLUTIONS and not (REFERENCE / f"{qid}.py").exists()]
    assert not missing, f"no reference solution for {missing}"
    for qid, q in coding_bank.items():
        code = SOLUTIONS[qid]["correct"] if qid in SOLUTIONS else \
            (REFERENCE / f"{qid}.py").read_text()
        run = _run(tmp_path, q, code, qid)
        assert run.verdict == f"all {run.total} cases passed", \
            (qid, run.verdict, [c for c in run.cases if not c["passed"]][:2])
        assert not [i for i in run.static_issues if i.startswith("error:")], \
            (qid, run.static_issues)


def test_first_differing_value_is_reported(coding_bank, tmp_path):
    q = coding_bank["code-moving-average"]
    run = _run(tmp_path, q, MOVING_AVERAGE["wrong"])
    first = next(c for c in run.cases if not c["passed"])
    assert first["note"] == "docstring example"
    assert first["call"] == "moving_average([1, 2, 3, 4, 5], 2)"
    # cumulative means: [1.0, 1.5, 2.0, ...]; a list of 5 where 4 were expected
    assert first["diff"].startswith("expected 4 items, got 5"), first["diff"]
    conf = _run(tmp_path, coding_bank["code-confusion-matrix"], CONFUSION["wrong"], "cm")
    diff = next(c for c in conf.cases if not c["passed"])["diff"]
    assert diff.startswith("at [1][2]: expected 1, got 0") or diff.startswith("at [0]"), diff


def test_discussion_after_a_failing_run_names_the_case_and_offers_no_hint(coding_bank, tmp_path):
    q = coding_bank["code-accuracy"]
    run = _run(tmp_path, q, ACCURACY["partial"])
    prompts = coding.discussion_prompts(run, q)
    assert "approach" in prompts[0] and "complexity" in prompts[0]
    assert "'empty input'" in prompts[1] and "expected ValueError" in prompts[1]
    assert not any(p.startswith("Here's a hint") for p in prompts)


def test_discussion_when_stuck_gives_one_hint_from_the_outline(coding_bank, tmp_path):
    q = coding_bank["code-softmax"]
    run = _run(tmp_path, q, SOFTMAX["wrong"].replace("s = max", "s = maxx"))
    assert run.passed == 0
    prompts = coding.discussion_prompts(run, q)
    hints = [p for p in prompts if p.startswith("Here's a hint")]
    assert len(hints) == 1
    assert hints[0] == "Here's a hint: m = max(logits); e_i = exp(x_i - m); return e_i / sum(e)."
    acc = coding_bank["code-accuracy"]
    assert coding.hint(acc) == "Here's a hint: Count matches with a single zip pass, " \
        "divide by n, return a float."


def test_discussion_after_a_run_that_stopped_early_asks_why(coding_bank, tmp_path):
    q = coding_bank["code-accuracy"]
    for code, start in ((HOSTILE["os._exit"][0], "The run stopped early: exited"),
                        (HOSTILE["infinite loop"][0], "The run timed out (timeout")):
        run = _run(tmp_path, q, code, time_limit=HOSTILE_LIMIT_S)
        prompts = coding.discussion_prompts(run, q)
        assert prompts[1].startswith(start), prompts
        assert "cases passed" not in prompts[1]
        assert prompts[-1].startswith("Here's a hint")


def test_discussion_after_all_passed_probes_an_edge_case(coding_bank, tmp_path):
    acc = _run(tmp_path, coding_bank["code-accuracy"], ACCURACY["correct"])
    prompts = coding.discussion_prompts(acc, coding_bank["code-accuracy"])
    assert "imbalance" in prompts[1]
    pre = coding_bank["code-preprocess"]
    fake_all_passed = acc.model_copy(update={"question_id": pre.id})
    assert "NaN" in coding.discussion_prompts(fake_all_passed, pre)[1]


def test_numpy_results_and_tuples_compare_as_plain_values(coding_bank, tmp_path):
    pytest.importorskip("numpy")
    q = coding_bank["code-softmax"]
    run = _run(tmp_path, q, (
        "import numpy as np\n\n"
        "def softmax(logits):\n"
        "    if len(logits) == 0:\n"
        "        return []\n"
        "    x = np.asarray(logits, dtype=float)\n"
        "    e = np.exp(x - x.max())\n"
        "    return e / e.sum()\n"))
    assert run.verdict == f"all {run.total} cases passed", run.cases


# ----------------------------------------------------------------------------- hostile code

HOSTILE = {
    "infinite loop": ("def accuracy(a, b):\n    while True:\n        pass\n", "timeout: "),
    "infinite loop at import": ("while True:\n    pass\n",
                                "timeout: stopped after 2 s at import (module-level code)"),
    "many GB": ("def accuracy(a, b):\n    return bytearray(16 * 1024 ** 3)\n", "memory limit"),
    "growing list": ("def accuracy(a, b):\n    x = []\n    while True:\n"
                     "        x.append(bytearray(10 ** 7))\n", "memory limit"),
    "fork loop": ("import os\ndef accuracy(a, b):\n    while True:\n        os.fork()\n",
                  "process limit"),
    "fork loop at import": ("import os\nwhile True:\n    os.fork()\n", "process limit"),
    "subprocess": ("import subprocess\ndef accuracy(a, b):\n"
                   "    return subprocess.run(['true']).returncode\n", "process limit"),
    "print gigabytes": ("import sys\ndef accuracy(a, b):\n    while True:\n"
                        "        sys.stdout.write('x' * 65536)\n", "output limit"),
    "stderr flood": ("import os\ndef accuracy(a, b):\n    while True:\n"
                     "        os.write(2, b'y' * 65536)\n", "output limit"),
    "os._exit": ("import os\ndef accuracy(a, b):\n    os._exit(0)\n", "exited: "),
    "sys.exit": ("import sys\ndef accuracy(a, b):\n    sys.exit(3)\n", "exited: sys.exit(3)"),
    "sys.exit at import": ("import sys\nsys.exit(3)\n", "exited: sys.exit(3) called at import"),
    "raise at import": ("raise RuntimeError('boom')\n", "crashed at import: RuntimeError: boom"),
    "recursion bomb": ("def accuracy(a, b):\n    return accuracy(a, b)\n",
                       "crashed: RecursionError"),
    "segfault": ("import ctypes\ndef accuracy(a, b):\n    return ctypes.string_at(0)\n",
                 "crashed: killed by SIGSEGV"),
    "network": ("import socket\ndef accuracy(a, b):\n"
                "    socket.create_connection(('1.1.1.1', 80), timeout=1)\n", "blocked: network"),
    "huge file": ("def accuracy(a, b):\n    with open('big.bin', 'wb') as f:\n"
                  "        f.write(b'x' * (40 * 1024 * 1024))\n", "file size limit"),
    "thread": ("import threading\ndef accuracy(a, b):\n"
               "    threading.Thread(target=print).start()\n", "process limit"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_solution_ends_with_a_clear_verdict_within_the_limit(coding_bank, tmp_path, name):
    code, verdict = HOSTILE[name]
    t0 = time.monotonic()
    run = _run(tmp_path, coding_bank["code-accuracy"], code, time_limit=HOSTILE_LIMIT_S)
    elapsed = time.monotonic() - t0
    assert run.verdict.startswith(verdict), run.verdict
    assert run.passed == 0
    assert elapsed < HOSTILE_LIMIT_S + SLACK_S


def test_writing_outside_the_working_directory_is_blocked(coding_bank, tmp_path):
    target = tmp_path / "outside" / "escaped.txt"
    target.parent.mkdir()
    os.chmod(target.parent, 0o777)
    code = ("def accuracy(a, b):\n"
            f"    open({str(target)!r}, 'w').write('x')\n"
            "    return 1.0\n")
    run = _run(tmp_path, coding_bank["code-accuracy"], code, time_limit=HOSTILE_LIMIT_S)
    assert not target.exists()
    assert run.verdict.startswith("blocked: files outside the working directory"), run.verdict
    # ... while the working directory itself is writable
    inside = ("def accuracy(y_true, y_pred):\n"
              "    with open('scratch.txt', 'w') as f:\n"
              "        f.write('ok')\n"
              "    if not y_true or len(y_true) != len(y_pred):\n"
              "        raise ValueError('bad input')\n"
              "    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)\n")
    ok = _run(tmp_path, coding_bank["code-accuracy"], inside, "inside")
    assert ok.passed == ok.total, ok.verdict


def test_the_interview_goes_on_after_hostile_runs(coding_bank, tmp_path):
    q = coding_bank["code-accuracy"]
    for code, _ in (HOSTILE["os._exit"], HOSTILE["many GB"], HOSTILE["print gigabytes"]):
        _run(tmp_path, q, code, time_limit=HOSTILE_LIMIT_S)
    run = _run(tmp_path, q, ACCURACY["correct"])
    assert run.verdict == f"all {run.total} cases passed"


def _pids_written(folder: Path) -> list[int]:
    return [int(p.read_text()) for p in folder.glob("*.pid") if p.read_text().strip()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


FORK_AND_HIDE = (
    "import ctypes, os, time\n"
    "def accuracy(a, b):\n"
    "    for i in range(12):\n"
    "        if os.fork() == 0:\n"
    "            {escape}\n"
    # PR_SET_NAME: found from outside
    "            ctypes.CDLL(None).prctl(15, {name!r}, 0, 0, 0)\n"

    "            pid = os.readlink('/proc/self')\n"
    "            with open(os.path.join({folder!r}, pid + '.pid'), 'w') as f:\n"
    "                f.write(pid)\n"
    "            time.sleep(600)\n"
    "            os._exit(0)\n"
    "    while True:\n"
    "        pass\n")


@pytest.mark.parametrize("mode", ["pid namespace, children escape with setsid",
                                  "fallback: process group only"])
def test_fork_loop_is_contained_when_process_limits_do_not_apply(coding_bank, tmp_path, mode):
    """With seccomp off and running as root (RLIMIT_NPROC does not bind root), forks succeed:
    everything the code started must still be dead once run_solution returns."""
    folder = tmp_path / "pids"
    folder.mkdir()
    os.chmod(folder, 0o777)
    if mode.startswith("pid"):
        if not sandbox._unshare_prefix(os.geteuid() == 0):
            pytest.skip("unshare is not usable here")
        opts = sandbox.SandboxOptions(seccomp=False, landlock=False)
        escape = "os.setsid()"
    else:
        opts = sandbox.SandboxOptions(seccomp=False, landlock=False, namespaces=False,
                                     drop_privileges=False)
        escape = "pass"
    name = f"mifork{os.getpid() % 100000:05d}{len(mode) % 10}".encode()
    code = FORK_AND_HIDE.format(escape=escape, folder=str(folder), name=name)
    run = _run(tmp_path, coding_bank["code-accuracy"], code, time_limit=HOSTILE_LIMIT_S,
               options=opts)
    assert run.verdict.startswith("timeout"), run.verdict
    pids = _pids_written(folder)
    assert len(pids) >= 6, pids  # the children really ran
    # The pids they wrote are of their own PID namespace (with its own /proc) in the first mode,
    # so the survivors are looked up by the name each child gave itself.
    deadline = time.monotonic() + 5
    while _named(name.decode()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _named(name.decode())


def _named(name: str) -> list[int]:
    """Live processes of this machine whose name (comm) is ``name``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name and _alive(int(entry.name)):
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


# ----------------------------------------------------------------------------- verdict shapes


def _question(**coding_fields) -> Question:
    spec = CodingSpec(**{
        "function": "add", "signature": "def add(a: int, b: int) -> int:",
        "starter": "def add(a: int, b: int) -> int:\n    raise NotImplementedError\n",
        "cases": [TestCase(args=[1, 2], expected=3, note="small"),
                  TestCase(args=[-1, 1], expected=0, note="zero")],
        "time_limit_s": 3, **coding_fields})
    return Question(id="code-add", section="coding", text="Add two numbers.", roles=["ml-engineer"],
                    levels=["junior"], key_points=[KeyPoint(id="sum", point="adds them")],
                    outline="Return a plus b. Mention overflow.", coding=spec)


def test_syntax_error_missing_function_and_missing_file(tmp_path):
    q = _question()
    syn = _run(tmp_path, q, "def add(a, b)\n    return a + b\n", "syn")
    assert syn.verdict == "syntax error at line 1: expected ':'"
    assert syn.static_issues[0].startswith("error: line 1: syntax error")
    missing = _run(tmp_path, q, "def plus(a, b):\n    return a + b\n", "missing")
    assert missing.verdict == "function add not defined"
    not_fn = _run(tmp_path, q, "add = 3\n", "notfn")
    assert not_fn.verdict == "function add not defined (add is a int, not a function)"
    gone = sandbox.run_solution(tmp_path / "nope.py", q.coding)
    assert gone.verdict.startswith("no solution file:") and gone.passed == 0


def test_wrong_arity_is_a_crash_with_the_type_error_and_a_static_error(tmp_path):
    q = _question()
    run = _run(tmp_path, q, "def add(a):\n    return a\n")
    assert run.verdict.startswith("crashed: TypeError: add() takes 1 positional argument"), \
        run.verdict
    assert any(i.startswith("error: line 1: add takes 1") for i in run.static_issues)
    assert coding.level_for_quality(run) == 1


def test_raises_cases_and_tolerance(tmp_path):
    q = _question(cases=[
        TestCase(args=[0.1, 0.2], expected=0.3, note="floats without tolerance"),
        TestCase(args=[[0.5, 0.25], [0.5, 0.25]], expected=[1.0, 0.5], tolerance=1e-3,
                 note="lists"),
        TestCase(args=["a", 1], raises="TypeError", note="str plus int"),
        TestCase(args=[1, 1], raises="ValueError", note="should raise but returns"),
    ])
    run = _run(tmp_path, q, (
        "def add(a, b):\n"
        "    if isinstance(a, list):\n"
        "        return [x + y + 0.0004 for x, y in zip(a, b)]\n"
        "    return a + b\n"))
    assert [c["passed"] for c in run.cases] == [True, True, True, False]
    assert run.cases[3]["diff"] == "expected ValueError to be raised, returned 2"
    assert run.verdict == "3 of 4 cases passed"


# ----------------------------------------------------------------------------- comparison


def test_compare_reports_the_first_difference_with_its_path():
    cmp = coding_runner.compare
    assert cmp([1.0, [2.0, 3.0]], [1.0, [2.0, 3.0004]], 1e-3) is None
    assert cmp([1.0, [2.0, 3.1]], [1.0, [2.0, 3.0]], 1e-3) == "at [1][1]: expected 3.0, got 3.1"
    assert cmp(float("nan"), math.nan) is None
    assert cmp([1.0, float("nan")], [1.0, 2.0]) == "at [1]: expected 2.0, got nan"
    assert cmp({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}) == "at ['b'][1]: expected 3, got 2"
    assert cmp({"a": 1}, {"a": 1, "b": 2}) == "missing key 'b'"
    assert cmp({"a": 1, "c": 2}, {"a": 1}) == "unexpected key 'c'"
    assert cmp((1, 2), [1, 2]) is None
    assert cmp(True, 1) == "expected 1, got True (bool)"
    assert cmp(1, True) == "expected True, got 1"
    assert cmp([1, 2], [1, 2, 3]) == "expected 3 items, got 2: [1, 2]"
    assert cmp(0.1 + 0.2, 0.3) is None
    assert cmp(None, 0.0) == "expected 0.0, got None (NoneType)"
    assert cmp(float("inf"), float("inf")) is None
    data = {1: [0.5], "x": (1, 2)}
    assert coding_runner.decode(coding_runner.encode(data)) == data


# ----------------------------------------------------------------------------- static checks


def test_static_checks_find_the_usual_problems():
    q = _question(cases=[TestCase(args=[[], 2], expected=0, note="empty")])
    clean = "def add(a, b):\n    if not a:\n        return 0\n    return a + b\n"
    assert checks.static_checks(clean, q.coding) == []
    messy = ("import os\n"
             "def add(a, b):\n"
             "    unused = 3\n"
             "    try:\n"
             "        return a + b\n"
             "    except:\n"
             "        return None\n")
    issues = checks.static_checks(messy, q.coding)
    text = "\n".join(issues)
    assert "unused" in text and "F841" in text
    assert "E722" in text
    assert "F401" in text  # os imported, never used (ruff) - ruff ships in the dev venv
    long_fn = "def add(a, b):\n" + "".join(f"    x{i} = {i}\n" for i in range(70)) + \
        "    return a + b + " + " + ".join(f"x{i}" for i in range(70)) + "\n"
    assert any("lines long" in i for i in checks.static_checks(long_fn, q.coding))
    no_empty = "def add(a, b):\n    return a[0] + b\n"
    assert any("empty input" in i for i in checks.static_checks(no_empty, q.coding))
    assert checks.static_checks("def add(a, b, c):\n    return a\n", q.coding)[0].startswith(
        "error: line 1: add takes 3")


def test_pathologically_nested_code_gets_a_verdict_not_an_exception(tmp_path):
    q = _question(cases=[TestCase(args=[1, 1], expected=2000, note="deep sum")])
    deep = "def add(a, b):\n    return " + "+".join(["a"] * 2000) + "\n"
    assert checks.static_checks(deep, q.coding) == [
        "line 1: expressions nested too deeply to check"]
    assert _run(tmp_path, q, deep, "deep").verdict == "all 1 cases passed"
    deeper = "def add(a, b):\n    return " + "+".join(["a"] * 50000) + "\n"
    run = _run(tmp_path, q, deeper, "deeper")
    assert run.verdict == "cannot parse the code: RecursionError" and run.passed == 0


def test_static_checks_without_ruff_fall_back_to_ast(monkeypatch):
    monkeypatch.setattr(checks, "_ruff_path", lambda: None)
    issues = checks.static_checks(
        "def add(a, b):\n    tmp = 1\n    try:\n        return a + b\n    except:\n        pass\n",
        _question().coding)
    assert any("'tmp'" in i and "F841" in i for i in issues)
    assert any("E722" in i for i in issues)


# ----------------------------------------------------------------------------- levels, editor


def _fake_run(passed: int, total: int, issues: list[str], code: str = "x = 1") -> CodingRun:
    return CodingRun(question_id="q", code_path="q.py", code=code, verdict="", passed=passed,
                     total=total, static_issues=issues)


def test_level_thresholds():
    assert [coding.level_for_tests(_fake_run(p, 10, [])) for p in (10, 9, 8, 5, 4, 1, 0)] == \
        [5, 4, 4, 3, 2, 2, 1]
    assert [coding.level_for_quality(_fake_run(5, 5, ["m"] * n))
            for n in (0, 1, 2, 3, 4, 6, 7)] == \
        [5, 4, 3, 3, 2, 2, 1]
    assert coding.level_for_quality(_fake_run(5, 5, ["error: line 1: syntax error"])) == 1
    assert coding.level_for_quality(_fake_run(0, 5, [])) == 3
    assert coding.level_for_quality(_fake_run(5, 5, [], code="  ")) == 1
    sig = coding.coding_signals(_fake_run(4, 5, ["line 2: m"]))
    assert sig["tests"] == 0.8 and sig["tests_level"] == 4
    assert sig["quality_level"] == 4 and sig["code_quality"] == 0.75


def test_open_editor(tmp_path, monkeypatch):
    path = tmp_path / "x.py"
    path.write_text("")
    monkeypatch.delenv("EDITOR", raising=False)
    assert coding.open_editor(path) is None
    monkeypatch.setenv("EDITOR", "touch")
    proc = coding.open_editor(path.with_name("made-by-editor.py"))
    assert proc is not None and proc.wait(timeout=10) == 0
    assert path.with_name("made-by-editor.py").exists()


def test_code_cannot_signal_the_interview_or_the_runner(coding_bank, tmp_path):
    me = os.getpid()
    code = ("import os, signal\n"
            "def accuracy(y_true, y_pred):\n"
            f"    for pid in (os.getppid(), {me}, 1):\n"
            "        try:\n"
            "            os.kill(pid, signal.SIGKILL)\n"
            "        except OSError:\n"
            "            pass\n"
            "    if not y_true or len(y_true) != len(y_pred):\n"
            "        raise ValueError('bad input')\n"
            "    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)\n")
    run = _run(tmp_path, coding_bank["code-accuracy"], code)
    assert run.verdict == f"all {run.total} cases passed", run.verdict  # the runner survived too


def test_the_environment_with_secrets_does_not_reach_the_code(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    q = _question(cases=[TestCase(args=[1, 2], expected=None, note="no key visible")])
    run = _run(tmp_path, q,
               "import os\ndef add(a, b):\n    return os.environ.get('OPENAI_API_KEY')\n")
    assert run.verdict == "all 1 cases passed", run.cases


SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
                    reason="needs root and a Python that other users can read")
def test_as_root_the_code_runs_as_a_throwaway_uid_where_rlimit_nproc_binds(tmp_path):
    """The runner is standard library only, so a world-readable system Python can run it; then
    root drops to a throwaway uid and RLIMIT_NPROC alone (seccomp off) stops a real fork bomb."""
    opts = sandbox.SandboxOptions(python=str(SYSTEM_PYTHON), seccomp=False)
    if not sandbox._readable_by_others(opts.python):
        pytest.skip("the system Python is not readable by other users here")
    q = _question(cases=[TestCase(args=[1, 2], expected=None, note="not root")])
    who = _run(tmp_path, q,
               "import os\ndef add(a, b):\n    return None if os.getuid() else 'root'\n",
               "who", options=opts)
    assert who.verdict == "all 1 cases passed", who.cases
    bomb = _run(tmp_path, q, "import os\ndef add(a, b):\n    while True:\n        os.fork()\n",
                "bomb", options=opts)
    assert bomb.verdict.startswith("process limit"), bomb.verdict


def test_a_finished_run_does_not_wait_for_children_left_behind(coding_bank, tmp_path):
    """Fallback mode (forks allowed): a child that keeps the pipes open must not turn a finished
    run into a timeout, and it is killed with the process group."""
    folder = tmp_path / "pids"
    folder.mkdir()
    opts = sandbox.SandboxOptions(seccomp=False, landlock=False, namespaces=False,
                                 drop_privileges=False)
    code = ("import os, time\n"
            "if os.fork() == 0:\n"
            f"    open(os.path.join({str(folder)!r}, str(os.getpid()) + '.pid'), 'w').write("
            "str(os.getpid()))\n"
            "    time.sleep(600)\n"
            "    os._exit(0)\n" + ACCURACY["correct"])
    q = coding_bank["code-accuracy"].model_copy(deep=True)
    q.coding.time_limit_s = 20
    t0 = time.monotonic()
    run = _run(tmp_path, q, code, options=opts)
    assert run.verdict == f"all {run.total} cases passed", run.verdict
    assert time.monotonic() - t0 < 15  # well before the 20 s limit: it did not wait for the child
    deadline = time.monotonic() + 5
    pids = _pids_written(folder)
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids and not [p for p in pids if _alive(p)]


def test_cpu_time_limit_ends_a_busy_loop_before_the_wall_clock(coding_bank, tmp_path):
    """RLIMIT_CPU normally sits above the wall-clock limit; pulled below it, it ends the run."""
    opts = sandbox.SandboxOptions(cpu_extra_s=-5.0)  # CPU limit 1 s, wall clock 6 s
    run = _run(tmp_path, coding_bank["code-accuracy"], HOSTILE["infinite loop"][0],
               time_limit=6.0, options=opts)
    assert run.verdict.startswith("CPU time limit: used"), run.verdict


def test_sandbox_description_matches_this_kernel():
    desc = sandbox.sandbox_description()
    assert desc[0].startswith("separate process group")
    abi = coding_runner.landlock_abi()
    assert any("Landlock" in d for d in desc) == (abi >= 1)
    off = sandbox.sandbox_description(sandbox.SandboxOptions(namespaces=False, landlock=False,
                                                           seccomp=False))
    assert not any("namespace" in d or "Landlock" in d or "seccomp" in d for d in off)


def test_doctor_runs_the_real_sandbox_and_names_its_layers():
    from mockinterview.doctor import _sandbox_check

    name, ok, detail = _sandbox_check()
    assert name == "coding sandbox" and "layers:" in detail
    if coding_runner.landlock_abi() >= 6 and sandbox._unshare_prefix(os.geteuid() == 0):
        assert ok, detail  # this machine has every layer
        for layer in ("landlock-read", "seccomp", "pidns", "procfs", "env"):
            assert layer in detail
    else:
        assert "missing:" in detail


# ----------------------------------------------------------------------------- the result channel


def _frame(obj) -> bytes:
    body = json.dumps(obj).encode()
    return b"%08x" % len(body) + body


def test_frames_are_length_prefixed_and_anything_else_is_a_protocol_error():
    ok, rest = sandbox._frames(_frame({"ev": "ready"}) + _frame({"ev": "done"}) + b"0000")
    assert [e["ev"] for e in ok] == ["ready", "done"] and rest == b"0000"
    bad = [b'{"ev": "case", "i": 0, "passed": true}\n',  # the old line format
           b"zzzzzzzz{}", b"%08x" % (coding_runner.MAX_FRAME + 1),
           b"00000003abc", _frame([1, 2]), _frame({"i": 0}), b"00000005[[[[["]
    for data in bad:
        with pytest.raises(sandbox._ProtocolError):
            sandbox._frames(data)


def test_values_decode_as_plain_data_built_here():
    wire = coding_runner.to_wire
    cases = [1, 1.5, "s", None, True, [1, [2]], (1, "a"), {"k": (1, 2), 3: [None]},
             {frozenset({1, 2}): "set key"}]
    for value in cases:
        assert sandbox.from_wire(json.loads(json.dumps(wire(value)))) == value

    class Evil(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    got = sandbox.from_wire(wire([Evil(7), Evil(8)]))
    assert got == [7, 8] and all(type(x) is int for x in got)
    opaque = sandbox.from_wire(wire(object()))
    assert isinstance(opaque, sandbox.Opaque) and opaque != object() and opaque != 1
    for forged in [{"$dict": [[[1], 2]]}, {"$tuple": 1}, {"passed": True}, {"$dict": [[1]]},
                   {"$set": [[1]]}, {"$opaque": 1}]:
        with pytest.raises(sandbox._ProtocolError):
            sandbox.from_wire(forged)


def test_records_out_of_order_fail_the_cases_not_answered(tmp_path):
    """A solution that answers case 1 honestly, then forges a start/result pair for case 3 and
    a 'done': case 1 counts, everything after the forged record fails."""
    q = _question(cases=[TestCase(args=[i], expected=i * 2) for i in range(4)], function="f",
                  signature="def f(x)", starter="def f(x):\n    pass\n")
    code = ("import json, os, sys\n"
            "def f(x):\n"
            "    if x == 1:\n"
            "        for rec in ({'ev': 'start', 'i': 3}, {'ev': 'case', 'i': 3, 'value': 6},\n"
            "                    {'ev': 'done'}):\n"
            "            body = json.dumps(rec).encode()\n"
            "            os.write(int(sys.argv[1]), b'%08x' % len(body) + body)\n"
            "    return x * 2\n")
    run = _run(tmp_path, q, code)
    assert run.passed == 1 and run.cases[0]["passed"] and not run.cases[3]["passed"], run.verdict
    assert run.verdict.startswith("broken result channel"), run.verdict
