"""Prompt templates: Jinja2 files in ``prompts/`` that coaches edit, checked before they are used.

Why templates and not strings in code: the interviewer's persona, the follow-up policy and the
grading instructions are coaching decisions, so coaches change them without touching Python. Why the
checker: a template naming a variable the program never passes would fail in the middle of an
interview (templates load with ``StrictUndefined``), so ``check_prompts`` finds it first and says
``file:line: what is wrong``.

Each template except ``persona.j2`` defines two blocks, ``system`` and ``user``, rendered into the
system and user messages. Blocks are rendered separately (never split from text afterwards), so
nothing inside the candidate's words can open a new message.

The candidate's words are untrusted data. The program - not the template - wraps them in a
:class:`Fence`: two delimiter lines holding a random nonce, so an answer cannot close the fence
itself. Templates receive the fenced block (``transcript``, ``candidate_question``, ``results``) and
the delimiter lines (``fence_begin``, ``fence_end``) to name them in their instructions.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from mockinterview.errors import PromptError

# The variables each template may use. Adding a variable here is a promise that every caller
# passes it; the checker reports any other name as an error.
PERSONA_VARS = frozenset({"role", "role_title", "level", "style", "company", "team"})
FENCE_VARS = frozenset({"fence_begin", "fence_end"})
TEMPLATE_VARS: dict[str, frozenset[str]] = {
    "persona.j2": PERSONA_VARS,
    "follow_up.j2": FENCE_VARS | {
        "persona", "style", "section", "question", "key_points", "asked", "follow_ups_left",
        "max_follow_ups", "remaining_s", "section_remaining_s", "transcript", "no_follow_up"},
    "score.j2": FENCE_VARS | {
        "section", "role", "level", "question", "key_points", "misconceptions", "outline",
        "criteria", "asked", "transcript", "delivery", "coding", "wrong_claims", "pairs"},
    "feedback.j2": FENCE_VARS | {"persona", "style", "results"},
    "candidate_question.j2": FENCE_VARS | {"persona", "style", "profile", "candidate_question"},
}
# Variables a template must actually use: a scoring prompt that never shows the transcript is a bug.
REQUIRED_VARS: dict[str, frozenset[str]] = {
    "persona.j2": frozenset({"style"}),
    "follow_up.j2": frozenset({"transcript", "question", "no_follow_up"}),
    "score.j2": frozenset({"transcript", "criteria"}),
    "feedback.j2": frozenset({"results"}),
    "candidate_question.j2": frozenset({"candidate_question", "profile"}),
}
BLOCKS = ("system", "user")
NO_FOLLOW_UP = "NO_FOLLOW_UP"


def default_prompts_dir(configured: Path | None = None) -> Path:
    """MOCKINTERVIEW_PROMPTS, else config ``prompts``, else ``<project>/prompts``."""
    env = os.environ.get("MOCKINTERVIEW_PROMPTS")
    if env:
        return Path(env).expanduser()
    if configured is not None:
        return Path(configured).expanduser()
    from mockinterview.shipped import shipped

    return shipped("prompts")


# ----------------------------------------------------------------------------- fencing


@dataclass(frozen=True)
class Fence:
    """Delimiter lines around untrusted text; the nonce makes them unguessable per request."""

    begin: str
    end: str

    @classmethod
    def new(cls) -> Fence:
        nonce = secrets.token_hex(6)
        return cls(begin=f"<<<UNTRUSTED_CANDIDATE_DATA {nonce} BEGIN>>>",
                   end=f"<<<UNTRUSTED_CANDIDATE_DATA {nonce} END>>>")

    def wrap(self, text: str) -> str:
        """The fenced block. Angle-bracket runs inside the data are broken up, so even a guessed
        delimiter cannot appear inside it."""
        clean = text.replace("<<<", "< < <").replace(">>>", "> > >")
        return f"{self.begin}\n{clean.strip()}\n{self.end}"

    def vars(self) -> dict[str, str]:
        return {"fence_begin": self.begin, "fence_end": self.end}


# ----------------------------------------------------------------------------- loading


def _env(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def prompt_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.j2") if p.is_file())


def prompt_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every prompt file, keyed ``prompts/<name>``: recorded in each session."""
    return {f"prompts/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
            for p in prompt_files(directory)}


class Prompts:
    """The loaded, checked templates of one prompts folder.

    Construction runs :func:`check_prompts` and raises :class:`PromptError` (first problem, with a
    count of the rest) so a broken template stops the program before the interview, not during it.
    """

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else default_prompts_dir()
        problems = check_prompts(self.directory)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise PromptError(problems[0] + more)
        self._env = _env(self.directory)
        self.hashes = prompt_hashes(self.directory)

    def _check_vars(self, name: str, values: Mapping[str, Any]) -> None:
        unknown = set(values) - TEMPLATE_VARS[name]
        if unknown:  # a programming error: the caller and the declared set disagree
            raise PromptError(f"{name}: the program passed undeclared variables {sorted(unknown)}")

    def render_text(self, name: str, **values: Any) -> str:
        """A template without blocks (persona.j2) rendered to text."""
        self._check_vars(name, values)
        try:
            return self._env.get_template(name).render(**values).strip()
        except jinja2.TemplateError as e:
            raise PromptError(f"{self.directory / name}: {e}") from None

    def render_messages(self, name: str, **values: Any) -> list[dict[str, str]]:
        """The ``system`` and ``user`` blocks of a template as chat messages."""
        self._check_vars(name, values)
        try:
            tpl = self._env.get_template(name)
            ctx = tpl.new_context(dict(values))
            out = []
            for block in BLOCKS:
                text = "".join(tpl.blocks[block](ctx)).strip()
                if text:
                    out.append({"role": block, "content": text})
            return out
        except jinja2.TemplateError as e:
            raise PromptError(f"{self.directory / name}: {e}") from None


# ----------------------------------------------------------------------------- checking


def sample_values(name: str) -> dict[str, Any]:
    """Realistic values of every declared variable: used by the checker's trial render."""
    fence = Fence.new()
    persona = "You are a neutral interviewer for a mid-level ML engineer role."
    common: dict[str, Any] = {**fence.vars(), "persona": persona, "style": "neutral"}
    if name == "persona.j2":
        return {"role": "ml-engineer", "role_title": "Machine Learning Engineer", "level": "mid",
                "style": "neutral", "company": "Example Corp", "team": "Search Ranking"}
    key_points = [{"id": "labels", "point": "Supervised learning uses labelled examples."},
                  {"id": "tasks", "point": "Unsupervised tasks include clustering."}]
    if name == "follow_up.j2":
        return {**common, "section": "technical",
                "question": "What is the difference between supervised and unsupervised learning?",
                "key_points": key_points, "asked": ["Can you give an example?"],
                "follow_ups_left": 1, "max_follow_ups": 2, "remaining_s": 1260.0,
                "section_remaining_s": 300.0, "no_follow_up": NO_FOLLOW_UP,
                "transcript": fence.wrap("Supervised learning uses labels.")}
    if name == "score.j2":
        return {**fence.vars(), "section": "technical", "role": "ml-engineer", "level": "mid",
                "question": "What is overfitting?", "key_points": key_points,
                "misconceptions": ["unsupervised learning uses labels"],
                "wrong_claims": [{"claim": "unsupervised learning uses labels",
                                  "correction": "unsupervised learning has no labels",
                                  "kind": "swapped"}],
                "pairs": [{"a": "bias", "a_means": "too simple", "b": "variance",
                           "b_means": "sensitive to the training data"}],
                "outline": "Define both; give tasks.",
                "criteria": [{"id": "correctness", "name": "Correctness", "weight": 1.0,
                              "levels": {i: f"descriptor {i}" for i in range(1, 6)}}],
                "asked": ["Can you give an example?"],
                "transcript": fence.wrap("Supervised learning uses labels."),
                "delivery": {"wpm": 140.0, "filler_rate": 2.0, "long_pauses": 1},
                "coding": {"verdict": "passed", "passed": 5, "total": 5}}
    if name == "feedback.j2":
        return {**common, "results": fence.wrap("Question: What is overfitting?\n"
                                                "  correctness: 3/5 - partly right")}
    if name == "candidate_question.j2":
        return {**common, "profile": {
            "title": "ML Engineer", "company": "Example Corp", "team": "Search", "summary": "...",
            "answers": [{"topics": ["team"], "answer": "Eight engineers."}],
            "fallback": "Your recruiter can tell you more."},
            "candidate_question": fence.wrap("What does the team work on?")}
    return {}


def _first_line(ast: nodes.Template, name: str) -> int:
    lines = [n.lineno for n in ast.find_all(nodes.Name) if n.name == name and n.ctx == "load"]
    return min(lines) if lines else 1


def check_prompts(directory: Path) -> list[str]:
    """Every problem in a prompts folder, one line each: ``file:line: what is wrong``.

    Checks: every required template exists and parses; it uses only its declared variables (a
    typo would fail mid-interview under StrictUndefined) and the ones it must show; it defines the
    system and user blocks; and it renders with sample values.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return [f"{directory}: prompts folder not found"]
    env = _env(directory)
    problems: list[str] = []
    for name, declared in TEMPLATE_VARS.items():
        path = directory / name
        rel = str(path)
        if not path.is_file():
            problems.append(f"{rel}:1: missing template (required)")
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(f"{rel}:1: cannot read ({e})")
            continue
        try:
            ast = env.parse(source, name=name, filename=rel)
        except jinja2.TemplateSyntaxError as e:
            problems.append(f"{rel}:{e.lineno}: syntax error: {e.message}")
            continue
        used = meta.find_undeclared_variables(ast)
        for var in sorted(used - declared):
            problems.append(f"{rel}:{_first_line(ast, var)}: unknown variable '{var}' "
                            f"(this template may use: {', '.join(sorted(declared))})")
        for var in sorted(REQUIRED_VARS[name] - used):
            problems.append(f"{rel}:1: never uses '{{{{ {var} }}}}', which this template must show")
        blocks = {b.name: b.lineno for b in ast.find_all(nodes.Block)}
        if name != "persona.j2":
            for b in BLOCKS:
                if b not in blocks:
                    problems.append(f"{rel}:1: missing {{% block {b} %}} (the {b} message)")
        if used - declared:
            continue
        # Trial render: catches attribute typos and filters that only fail at run time.
        try:
            tpl = env.from_string(source)
            values = sample_values(name)
            if name == "persona.j2" or not all(b in blocks for b in BLOCKS):
                tpl.render(**values)
            else:
                ctx = tpl.new_context(values)
                for b in BLOCKS:
                    "".join(tpl.blocks[b](ctx))
        except jinja2.TemplateError as e:
            line = getattr(e, "lineno", None) or 1
            problems.append(f"{rel}:{line}: does not render with sample values: {e}")
        except Exception as e:  # noqa: BLE001 - any runtime failure of a coach's template
            problems.append(f"{rel}:1: does not render with sample values: "
                            f"{type(e).__name__}: {e}")
    return problems
