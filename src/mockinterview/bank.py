"""Load and check the question bank: rubrics, questions and role profiles as YAML files.

One loader serves the whole program, so the checker a coach runs and the interview that uses the
files report a broken file the same way: ``file:line: field: what is wrong``. Line numbers come from
the YAML node tree, mapped onto pydantic's error locations.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mockinterview.errors import BankError
from mockinterview.schema import ROLES, SECTIONS, Pair, Question, RoleProfile, SectionRubric
from mockinterview.shipped import shipped

KINDS: dict[str, type[BaseModel]] = {
    "sections": SectionRubric,
    "questions": Question,
    "profile": RoleProfile,
    "pairs": Pair,
}
MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 40

Loc = tuple[Any, ...]




def default_rubrics_dir() -> Path:
    """MOCKINTERVIEW_RUBRICS, else the shipped bank (:func:`mockinterview.shipped.shipped`)."""
    env = os.environ.get("MOCKINTERVIEW_RUBRICS")
    if env:
        return Path(env)
    return shipped("rubrics")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- YAML with lines


class _LineLoader(yaml.SafeLoader):
    """Safe loader; we walk its node tree ourselves to keep a line for every path."""


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[str], rel: str,
           depth: int = 0) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if depth > MAX_DEPTH:
        raise _TooDeep(node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(f"{rel}:{key_node.start_mark.line + 1}: {_dotted(loc) or '<top>'}: "
                                "a key must be a plain value")
                continue
            key = _CONSTRUCTOR.construct_object(key_node)
            if key in out:
                problems.append(f"{rel}:{key_node.start_mark.line + 1}: {_dotted(loc + (key,))}: "
                                "duplicate key")
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, loc + (key,), lines, problems, rel, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, loc + (i,), lines, problems, rel, depth + 1)
                for i, v in enumerate(node.value)]
    return _CONSTRUCTOR.construct_object(node)


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


_CONSTRUCTOR = yaml.SafeLoader("")


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def _key(part: object) -> str:
    """A key as it can stand in a one-line ``file:line: field: message`` problem.

    Plain keys print as they are; anything else (colons, spaces, newlines, empty) is quoted and
    escaped so that a hostile key can neither break the line nor shift its ``:`` separators.
    """
    text = str(part)
    if _PLAIN_KEY.fullmatch(text):
        return text
    return json.dumps(text).replace(":", "\\u003a")


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("[") and part.endswith("]"):
            out += "[" + _key(part[1:-1]) + "]"
        else:
            out += ("." if out else "") + _key(part)
    return out


def load_yaml_with_lines(path: Path, rel: str) -> tuple[Any, dict[Loc, int], list[str]]:
    """Parse one YAML file; returns (data, line map, problems). Never raises for bad content."""
    problems: list[str] = []
    try:
        raw = path.read_bytes()
    except OSError as e:
        return None, {}, [f"{rel}:1: <file>: cannot read ({e.strerror})"]
    if len(raw) > MAX_FILE_BYTES:
        return None, {}, [f"{rel}:1: <file>: too large ({len(raw)} bytes, limit {MAX_FILE_BYTES})"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return None, {}, [f"{rel}:{line}: <file>: not UTF-8 text"]
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        what = (e.problem or e.context or "syntax error").strip()
        return None, {}, [f"{rel}:{line}: yaml: {what}"]
    except yaml.YAMLError as e:
        return None, {}, [f"{rel}:1: yaml: {str(e).splitlines()[0] if str(e) else 'syntax error'}"]
    except RecursionError:
        return None, {}, [f"{rel}:1: yaml: nested too deeply"]
    if node is None:
        return None, {}, [f"{rel}:1: <file>: empty file"]
    lines: dict[Loc, int] = {}
    try:
        data = _build(node, (), lines, problems, rel)
    except _TooDeep as e:
        return None, {}, [f"{rel}:{e.line}: yaml: nested deeper than {MAX_DEPTH} levels"]
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        return None, {}, [f"{rel}:1: yaml: "
                          f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"]
    return data, lines, problems


def _line_for(lines: dict[Loc, int], loc: Loc) -> int:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field missing"
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    return msg.splitlines()[0]


# ----------------------------------------------------------------------------- the bank


@dataclass
class Bank:
    """The loaded bank. Build it with :func:`load_bank`; every item here has passed the checks."""

    root: Path
    questions: dict[str, Question] = field(default_factory=dict)
    sections: dict[str, SectionRubric] = field(default_factory=dict)
    profiles: dict[str, RoleProfile] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    origin: dict[str, str] = field(default_factory=dict)  # question id -> "file:line"
    pairs: list[Pair] = field(default_factory=list)  # paired concepts (rubrics/pairs.yaml)

    def question(self, qid: str) -> Question:
        try:
            return self.questions[qid]
        except KeyError:
            raise BankError([f"{self.root}: question {qid!r} is not in the bank"]) from None

    def select(self, section: str | None = None, role: str | None = None,
               level: str | None = None, topic: str | None = None) -> list[Question]:
        out = []
        for q in self.questions.values():
            if section and q.section != section:
                continue
            if role and role not in q.roles:
                continue
            if level and level not in q.levels:
                continue
            if topic and not any(topic.lower() in t.lower() for t in q.topics):
                continue
            out.append(q)
        return out

    def rubric(self, section: str) -> SectionRubric:
        try:
            return self.sections[section]
        except KeyError:
            raise BankError([f"{self.root}: no rubric for section {section!r}"]) from None

    def summary(self) -> dict[str, Counter]:
        by_section: Counter = Counter(q.section for q in self.questions.values())
        by_role: Counter = Counter(r for q in self.questions.values() for r in q.roles)
        by_level: Counter = Counter(lv for q in self.questions.values() for lv in q.levels)
        return {"section": by_section, "role": by_role, "level": by_level}


def bank_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def check_bank(root: Path) -> tuple[Bank, list[str]]:
    """Load every file under root and return (bank of the valid items, problems)."""
    root = Path(root)
    bank = Bank(root=root)
    problems: list[str] = []
    if not root.exists():
        return bank, [f"{root}:1: <file>: no such file or folder"]
    files = bank_files(root)
    if not files:
        return bank, [f"{root}:1: <file>: no .yaml files found"]
    base = root if root.is_dir() else root.parent
    seen_ids: dict[str, str] = {}
    section_sources: dict[str, str] = {}
    for path in files:
        rel = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
        shown = str(path)
        data, lines, file_problems = load_yaml_with_lines(path, shown)
        problems += file_problems
        try:
            bank.hashes[rel] = sha256_file(path)
        except OSError:
            pass
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{shown}:1: <top>: expected a mapping with one of "
                            f"{', '.join(KINDS)}")
            continue
        unknown = [k for k in data if k not in KINDS]
        for k in unknown:
            problems.append(f"{shown}:{_line_for(lines, (k,))}: {k}: unknown key "
                            f"(expected one of {', '.join(KINDS)})")
        for kind, model in KINDS.items():
            if kind not in data:
                continue
            items = data[kind]
            if kind == "profile":
                items_iter: list[tuple[Loc, Any]] = [((kind,), items)]
            else:
                if not isinstance(items, list):
                    problems.append(f"{shown}:{_line_for(lines, (kind,))}: {kind}: expected a list")
                    continue
                items_iter = [((kind, i), it) for i, it in enumerate(items)]
            for loc, item in items_iter:
                problems += _check_item(kind, model, item, loc, lines, shown, bank, seen_ids,
                                        section_sources)
    problems += _cross_checks(bank)
    return bank, problems


def _check_item(kind: str, model: type[BaseModel], item: Any, loc: Loc, lines: dict[Loc, int],
                shown: str, bank: Bank, seen_ids: dict[str, str],
                section_sources: dict[str, str]) -> list[str]:
    problems: list[str] = []
    label = loc
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        label = loc[:-1] + (f"[{item['id']}]",) if len(loc) > 1 else loc
    try:
        obj = model.model_validate(item)
    except ValidationError as e:
        for err in e.errors():
            eloc = loc + tuple(err["loc"])
            field_name = _dotted(label + tuple(err["loc"]))
            problems.append(f"{shown}:{_line_for(lines, eloc)}: {field_name}: {_message(err)}")
        return problems
    line = _line_for(lines, loc)
    where = f"{shown}:{line}"
    if isinstance(obj, Question):
        if obj.id in seen_ids:
            problems.append(f"{where}: {_dotted(label)}.id: duplicate id {obj.id!r} "
                            f"(first defined at {seen_ids[obj.id]})")
            return problems
        seen_ids[obj.id] = where
        kp_ids = [k.id for k in obj.key_points]
        for dup in sorted({k for k in kp_ids if kp_ids.count(k) > 1}):
            problems.append(f"{where}: {_dotted(label)}.key_points: duplicate key point {dup!r}")
        for i, probe in enumerate(obj.probes):
            if probe.key_point not in kp_ids:
                pl = _line_for(lines, loc + ("probes", i, "key_point"))
                problems.append(f"{shown}:{pl}: {_dotted(label)}.probes[{i}].key_point: "
                                f"unknown key point {probe.key_point!r}")
        if obj.section == "coding" and obj.coding is None:
            problems.append(f"{where}: {_dotted(label)}.coding: a coding question needs a "
                            "coding block (signature, starter, cases)")
        if obj.coding is not None:
            problems += _check_coding(obj, label, shown, lines, loc)
        if obj.section != "coding" and obj.coding is not None:
            problems.append(f"{where}: {_dotted(label)}.coding: only coding questions take a "
                            "coding block")
        if not problems:
            bank.questions[obj.id] = obj
            bank.origin[obj.id] = where
    elif isinstance(obj, SectionRubric):
        if obj.section in section_sources:
            problems.append(f"{where}: {_dotted(label)}.section: section {obj.section!r} already "
                            f"has a rubric at {section_sources[obj.section]}")
            return problems
        section_sources[obj.section] = where
        total = sum(c.weight for c in obj.criteria)
        if abs(total - 1.0) > 1e-6:
            problems.append(f"{where}: {_dotted(label)}.criteria: weights sum to {total:g}, "
                            "not 1")
        ids = [c.id for c in obj.criteria]
        for dup in sorted({c for c in ids if ids.count(c) > 1}):
            problems.append(f"{where}: {_dotted(label)}.criteria: duplicate criterion {dup!r}")
        if not problems:
            bank.sections[obj.section] = obj
    elif isinstance(obj, Pair):
        if any(p.id == obj.id for p in bank.pairs):
            problems.append(f"{where}: {_dotted(label)}.id: duplicate pair {obj.id!r}")
            return problems
        terms = [t for side in obj.sides for t in (side.term, *side.aliases)]
        low = [t.lower() for t in terms]
        for dup in sorted({t for t in low if low.count(t) > 1}):
            problems.append(f"{where}: {_dotted(label)}.sides: {dup!r} names both sides")
        if not problems:
            bank.pairs.append(obj)
    elif isinstance(obj, RoleProfile):
        if obj.role in bank.profiles:
            problems.append(f"{where}: profile.role: role {obj.role!r} has two profiles")
        else:
            bank.profiles[obj.role] = obj
    return problems


def _check_coding(q: Question, label: Loc, shown: str, lines: dict[Loc, int], loc: Loc
                  ) -> list[str]:
    """The starter must compile and define the function the cases call."""
    import ast

    spec = q.coding
    assert spec is not None
    where = f"{shown}:{_line_for(lines, loc + ('coding', 'starter'))}"
    try:
        tree = ast.parse(spec.starter)
    except SyntaxError as e:
        return [f"{where}: {_dotted(label)}.coding.starter: does not compile "
                f"(line {e.lineno}: {e.msg})"]
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if spec.function not in names:
        return [f"{where}: {_dotted(label)}.coding.starter: does not define "
                f"{spec.function}()"]
    return []


def _cross_checks(bank: Bank) -> list[str]:
    problems = []
    used = {q.section for q in bank.questions.values()}
    for section in SECTIONS:
        if section in used and section not in bank.sections:
            problems.append(f"{bank.root}:1: sections: no rubric for section {section!r}, "
                            "which questions use")
    if bank.questions or bank.sections:
        for role in ROLES:
            if bank.questions and any(role in q.roles for q in bank.questions.values()) \
                    and role not in bank.profiles and bank.root.is_dir():
                problems.append(f"{bank.root}:1: profile: no role profile for {role!r}")
    return problems


_LOADED: dict[Path, tuple[tuple, Bank]] = {}


def _signature(root: Path) -> tuple:
    """What identifies a version of the bank cheaply: every file's path, size and mtime."""
    out = []
    for p in bank_files(root) if root.exists() else []:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def load_bank(root: Path | None = None) -> Bank:
    """Load the bank or raise BankError with every problem (file:line: field: message).

    Parsing and validating ~120 questions takes about a second on a small machine, and an
    interview needs the bank several times, so a loaded bank is reused until a file changes.
    """
    root = Path(root) if root else default_rubrics_dir()
    key = root.resolve()
    sig = _signature(root)
    hit = _LOADED.get(key)
    if hit and hit[0] == sig:
        return hit[1]
    bank, problems = check_bank(root)
    if problems:
        raise BankError(problems)
    _LOADED[key] = (sig, bank)
    return bank
