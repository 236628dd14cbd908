"""The coding challenge: a starter file for the candidate, the signals scoring reads and the
questions the interviewer asks afterwards. Runs go through :mod:`mockinterview.coding.sandbox`;
cheap static checks live in :mod:`mockinterview.coding.checks`.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from mockinterview.schema import CodingRun, CodingSpec, Question

# ----------------------------------------------------------------------------- starter file


def starter_text(question: Question) -> str:
    """The file the candidate edits: the task, the bank's starter (signature, docstring) and an
    example."""
    spec = _spec(question)
    text = " ".join(question.text.split())
    lines = [f"# Coding question {question.id}: {text}"]
    if spec.example:
        lines.append(f"# Example: {' '.join(spec.example.split())}")
    lines += [
        "# Edit the function below, save the file and say 'done' (or press Enter) to run the",
        "# hidden test cases. Standard library only is the safe choice; numpy is allowed if "
        "installed.",
        "",
    ]
    starter = spec.starter.rstrip() + "\n"
    if f"def {spec.function}" not in starter:
        sig = spec.signature.strip().removeprefix("def ").rstrip(":")
        starter = f"def {sig}:\n    raise NotImplementedError\n"
    return "\n".join(lines) + "\n" + starter


def write_starter(question: Question, folder: Path) -> Path:
    """Write ``code/<question_id>.py`` in the session folder (atomically); keep an existing file.

    An existing file is the candidate's work from before a resume, so it is never overwritten.
    """
    path = Path(folder) / "code" / f"{question.id}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(starter_text(question), encoding="utf-8")
    os.replace(tmp, path)
    return path


def open_editor(path: Path, editor: str | None = None) -> subprocess.Popen[bytes] | None:
    """Start ``$EDITOR path`` without waiting (the interview goes on); None when no editor is set.

    A terminal editor needs the terminal, so the flow should wait on the returned process before it
    reads from the keyboard again; a GUI editor returns at once or runs beside the interview.
    """
    cmd = editor if editor is not None else os.environ.get("EDITOR", "")
    if not cmd.strip():
        return None
    try:
        return subprocess.Popen([*shlex.split(cmd), str(path)])
    except OSError:
        return None


def _spec(question: Question) -> CodingSpec:
    if question.coding is None:
        raise ValueError(f"question {question.id} has no coding block")
    return question.coding


# ----------------------------------------------------------------------------- scoring signals


def level_for_tests(run: CodingRun) -> int:
    """Correctness level 1-5 from the share of hidden cases passed.

    5: every case; 4: at least 80 %; 3: at least 50 %; 2: at least one case; 1: none (including
    syntax errors, a missing function, the untouched starter, a timeout before any case passed).
    """
    if run.total <= 0 or run.passed <= 0:
        return 1
    share = run.passed / run.total
    if share >= 1.0:
        return 5
    if share >= 0.8:
        return 4
    if share >= 0.5:
        return 3
    return 2


def level_for_quality(run: CodingRun) -> int:
    """Code quality level 1-5 from the static findings.

    1: any severe finding ('error:' - syntax, missing function, wrong arity, untouched starter)
    or nothing written; otherwise minor findings count: 0 -> 5, 1 -> 4, 2-3 -> 3, 4-6 -> 2, 7+ -> 1.
    A run that passed no case at all is capped at 3: quality cannot be judged on code that does not
    work yet.
    """
    issues = run.static_issues
    if any(i.startswith("error:") for i in issues) or not run.code.strip():
        return 1
    n = len(issues)
    level = 5 if n == 0 else 4 if n == 1 else 3 if n <= 3 else 2 if n <= 6 else 1
    if run.passed == 0:
        level = min(level, 3)
    return level


def coding_signals(run: CodingRun) -> dict[str, Any]:
    """What scoring reads: shares in 0-1, levels 1-5, and the evidence to quote."""
    tests_level = level_for_tests(run)
    quality_level = level_for_quality(run)
    failing = [c for c in run.cases if not c.get("passed")]
    return {
        "tests": run.passed / run.total if run.total else 0.0,
        "code_quality": (quality_level - 1) / 4,
        "tests_level": tests_level,
        "quality_level": quality_level,
        "verdict": run.verdict,
        "passed": run.passed,
        "total": run.total,
        "failing": [f"case {c.get('index', 0) + 1} ({c.get('note') or 'unnamed'}): "
                    f"{c.get('diff') or c.get('error') or 'failed'}" for c in failing][:5],
        "static_issues": list(run.static_issues),
        "run_time_s": run.run_time_s,
    }


# ----------------------------------------------------------------------------- discussion


_NOT_A_METHOD = ("validate", "empty", "raise", "reject", "check ", "discuss", "explain", "mention",
                 "o(", "test ", "if ")


def hint(question: Question) -> str | None:
    """One hint from the question's outline: its first sentence about the method itself.

    Outlines open with input validation ("Empty -> []", "Validate lengths") and end with talking
    points ("Discuss ...", "O(n)"), neither of which helps someone stuck on the approach, so those
    clauses are left out when the outline has a method sentence.
    """
    outline = " ".join(question.outline.split())
    if not outline:
        return None
    picked: list[str] = []
    for sentence in outline.split(". "):
        clauses = [c.strip().rstrip(".") for c in sentence.split("; ")]
        kept = [c for c in clauses if c and not c.lower().startswith(_NOT_A_METHOD)]
        if kept:
            picked.append("; ".join(kept))
        if len(" ".join(picked).split()) >= 8:
            break
    text = ". ".join(picked) if picked else outline.split(". ")[0].rstrip(".")
    return f"Here's a hint: {text}."


_STOPPED_EARLY = ("timeout", "memory limit", "output limit", "exited", "process limit", "blocked",
                  "crashed: killed", "CPU time", "file size", "crashed at import", "sandbox")


def discussion_prompts(run: CodingRun, question: Question) -> list[str]:
    """What the interviewer asks after a run, in order: the approach and complexity; a failing
    case (named, with the first differing value) or, when all passed, an edge case; and one hint
    when the candidate is stuck (nothing passed)."""
    prompts = [f"Walk me through your approach to {_task(question)}. What are the time and memory "
               "complexity of your solution?"]
    failing = [c for c in run.cases if not c.get("passed")]
    verdict = run.verdict
    if verdict.startswith("timeout"):
        prompts.append(f"The run timed out ({verdict.split(';')[0]}). Where could your code loop "
                       "forever or be too slow, and how would you fix it?")
    elif verdict.startswith(("syntax error", "function ")):
        prompts.append(f"The code didn't run: {verdict}. Can you fix that and tell me what the "
                       "function should do first?")
    elif verdict.startswith(_STOPPED_EARLY):
        prompts.append(f"The run stopped early: {verdict.split(';')[0]}. What in your code causes "
                       "that, and how would you change it?")
    elif verdict.startswith("not implemented"):
        prompts.append("The function still raises NotImplementedError. How would you start? "
                       "Talk me through the first few lines.")
    elif failing and run.passed < run.total:
        c = failing[0]
        what = c.get("diff") or c.get("error") or "it failed"
        label = c.get("note") or f"case {c.get('index', 0) + 1}"
        call = c.get("call") or ""
        call = call if len(call) <= 80 else ""  # long inputs are for the report, not for speech
        prompts.append(f"Your code failed the '{label}' case" + (f", {call}" if call else "")
                       + f": {what}. Why do you think that happens, and how would you fix it?")
    else:
        prompts.append(_edge_probe(question))
    if run.passed == 0:
        h = hint(question)
        if h:
            prompts.append(h)
    return prompts


def _task(question: Question) -> str:
    """Said aloud, so 'the moving average function', not 'moving_average'."""
    spec = question.coding
    return f"the {spec.function.replace('_', ' ')} function" if spec else "this problem"


def _edge_probe(question: Question) -> str:
    """An edge case worth discussing even when every hidden case passed."""
    text = " ".join([question.text, *question.topics, question.outline]).lower()
    if any(w in text for w in ("nan", "missing", "impute", "preprocess")):
        return "All cases passed. What does your function do when a value is NaN or None?"
    if any(w in text for w in ("imbalanc", "accuracy", "precision", "recall", "classification",
                               "auc", "confusion")):
        return ("All cases passed. How does your function behave with heavy class imbalance, or "
                "when one class never appears in the predictions?")
    return ("All cases passed. What happens with empty input, or with a single element? How did "
            "you convince yourself it's correct?")
