"""Static checks of a candidate's solution, without running it: the signature against the
spec, unimplemented or empty-input handling, nesting, and ruff when it is installed.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mockinterview.schema import CodingSpec

# ----------------------------------------------------------------------------- static checks

LONG_FUNCTION_LINES = 60
DEEP_NESTING = 5


def _signature_params(spec: CodingSpec) -> ast.arguments | None:
    sig = spec.signature.strip()
    if not sig.startswith("def "):
        sig = "def " + sig
    sig = sig.rstrip().rstrip(":")
    try:
        tree = ast.parse(sig + ":\n    pass\n")
    except SyntaxError:
        return None
    fn = tree.body[0]
    return fn.args if isinstance(fn, ast.FunctionDef) else None


def _arity(args: ast.arguments) -> tuple[int, float, set[str]]:
    """(required positional count, max positional count, keyword names)."""
    pos = [*args.posonlyargs, *args.args]
    required = len(pos) - len(args.defaults)
    most = math.inf if args.vararg else float(len(pos))
    names = {a.arg for a in [*args.args, *args.kwonlyargs]}
    return required, most, names


def static_checks(code: str, spec: CodingSpec | None = None) -> list[str]:
    """Cheap readability and robustness findings, one line each (``line N: ...``); [] is clean.

    Uses ``ast`` always and ruff (when installed) for unused names, undefined names and bare
    ``except``. Severe findings (syntax, missing function, wrong arity) start with 'error:'.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"error: line {e.lineno}: syntax error: {e.msg}"]
    except (ValueError, RecursionError, MemoryError) as e:
        return [f"error: the code cannot be parsed ({type(e).__name__})"]
    try:
        return _static_checks(tree, code, spec)
    except RecursionError:
        return ["line 1: expressions nested too deeply to check"]


def _static_checks(tree: ast.Module, code: str, spec: CodingSpec | None) -> list[str]:
    issues: list[str] = []
    funcs = {n.name: n for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    target = funcs.get(spec.function) if spec else None
    if spec is not None:
        top = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == spec.function]
        if not top:
            issues.append(f"error: function {spec.function} is not defined at the top level")
        else:
            target = top[-1]
            issues += _arity_issues(target, spec)
            if _only_raises_not_implemented(target):
                issues.append(f"error: line {target.lineno}: {spec.function} is still the "
                              "starter (raises NotImplementedError)")
            elif _has_empty_case(spec) and not _handles_empty(target):
                issues.append(f"line {target.lineno}: {spec.function} has no visible handling "
                              "of empty input (no 'if not x', len(x) == 0 check or raise)")
    for fn in funcs.values():
        length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
        if length > LONG_FUNCTION_LINES:
            issues.append(f"line {fn.lineno}: function {fn.name} is {length} lines long "
                          f"(over {LONG_FUNCTION_LINES}); split it")
        depth = _nesting(fn)
        if depth >= DEEP_NESTING:
            issues.append(f"line {fn.lineno}: function {fn.name} nests blocks {depth} deep")
    ruff = _ruff_issues(code)
    if ruff is None:
        issues += _ast_lint(tree)
    else:
        issues += ruff
    return issues


def _arity_issues(fn: ast.FunctionDef, spec: CodingSpec) -> list[str]:
    issues = []
    req, most, names = _arity(fn.args)
    call_counts = {len(c.args) for c in spec.cases}
    kw_used = {k for c in spec.cases for k in c.kwargs}
    expected = _signature_params(spec)
    if expected is not None:
        e_req, e_most, _ = _arity(expected)
        if req > e_req or most < e_most:
            want = int(e_most) if e_most != math.inf else "any number of"
            issues.append(f"error: line {fn.lineno}: {spec.function} takes {req}"
                          f"{'' if most == req else f'-{most:g}'} positional arguments; the "
                          f"signature has {want} ({e_req} required)")
            return issues
    too_few = [n for n in call_counts if n < req]
    too_many = [n for n in call_counts if n > most]
    if too_few or too_many:
        issues.append(f"error: line {fn.lineno}: {spec.function} cannot be called with "
                      f"{(too_few or too_many)[0]} positional arguments as the tests do")
    missing_kw = sorted(k for k in kw_used if k not in names and fn.args.kwarg is None)
    if missing_kw:
        issues.append(f"error: line {fn.lineno}: {spec.function} has no parameter "
                      f"{missing_kw[0]!r}, which the tests pass by name")
    return issues


def _only_raises_not_implemented(fn: ast.FunctionDef) -> bool:
    body = [s for s in fn.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    name = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(name, ast.Name) and name.id == "NotImplementedError"


def _has_empty_case(spec: CodingSpec) -> bool:
    def empty(v: Any) -> bool:
        return isinstance(v, (list, dict, str, tuple)) and len(v) == 0

    return any(any(empty(a) for a in c.args) or any(empty(v) for v in c.kwargs.values())
               for c in spec.cases)


def _handles_empty(fn: ast.FunctionDef) -> bool:
    """Heuristic: a raise, a try, a truthiness test or a len() comparison anywhere in the
    function."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Raise, ast.Try)):
            return True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return True
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) and isinstance(
                node.test, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)):
            return True
        if isinstance(node, ast.Compare) and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len"
                for n in [node.left, *node.comparators]):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "max", "min") and any(k.arg == "default" for k in node.keywords):
            return True
    return False


def _nesting(fn: ast.AST) -> int:
    blocks = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)

    def depth(node: ast.AST, d: int) -> int:
        best = d
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            best = max(best, depth(child, d + 1 if isinstance(child, blocks) else d))
        return best

    return depth(fn, 0)


def _ast_lint(tree: ast.Module) -> list[str]:
    """The ruff checks we rely on, done with ast when ruff is not installed."""
    issues = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            issues.append(f"line {node.lineno}: bare 'except:' hides every error (E722)")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stored: dict[str, int] = {}
            loaded: set[str] = set()
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    if isinstance(sub.ctx, ast.Store):
                        stored.setdefault(sub.id, sub.lineno)
                    else:
                        loaded.add(sub.id)
            globals_ = {n for sub in ast.walk(node) if isinstance(sub, (ast.Global, ast.Nonlocal))
                        for n in sub.names}
            for name, line in stored.items():
                if name not in loaded and name not in globals_ and name != "_":
                    issues.append(f"line {line}: local variable {name!r} is assigned to but "
                                  "never used (F841)")
    return issues


RUFF_RULES = "F,E7,E9,B0"


def _ruff_path() -> str | None:
    here = Path(sys.executable).parent / "ruff"
    return str(here) if here.exists() else shutil.which("ruff")


def _ruff_issues(code: str) -> list[str] | None:
    exe = _ruff_path()
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "check", "--isolated", "--no-cache", "--select", RUFF_RULES,
             "--output-format", "json", "--stdin-filename", "solution.py", "-"],
            input=code.encode(), capture_output=True, timeout=20)
        findings = json.loads(proc.stdout or b"[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    out = []
    for f in findings if isinstance(findings, list) else []:
        row = (f.get("location") or {}).get("row")
        out.append(f"line {row}: {f.get('message')} ({f.get('code')})")
    return out


