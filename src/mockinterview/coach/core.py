"""Coach tools: re-score stored sessions, calibrate a grader against a coach's grades, export
grades.

A coach who edits a rubric or a prompt needs to see what the edit does before trusting it:

- :func:`rescore_session` re-scores the stored transcripts of a session (no new transcription) with
  a given bank and engine and appends the result as a new :class:`ScoringRun` (old runs stay), with
  the hashes of the rubric and prompt files used, so every run says which versions produced it.
- :func:`calibrate` scores a JSONL file of graded answers and measures agreement with the coach
  (Spearman, quadratic weighted kappa, MAE, exact and within-one agreement), overall, per section,
  on honest answers only, and the highest level any adversarial answer got.
- :func:`export_grades` turns reviewer annotations stored in sessions into that JSONL format.

Both rescore and calibrate can score with a second bank (``against``) so two versions are compared
on the same answers. Nothing here prints: the CLI renders the returned results.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mockinterview.bank import Bank, load_bank, sha256_file
from mockinterview.coach import agreement
from mockinterview.config import Config
from mockinterview.errors import CalibrationError, MockInterviewError, SessionError
from mockinterview.interviewer.base import AnswerContext
from mockinterview.interviewer.prompts import default_prompts_dir
from mockinterview.interviewer.scoring import delivery_metrics
from mockinterview.schema import (
    Delivery,
    KeyPoint,
    Question,
    QuestionScore,
    ScoringRun,
    Section,
    SectionRubric,
    Session,
    Transcript,
)
from mockinterview.store import atomic_write_text, load_session, save_session

ANSWER_KINDS = ("question", "follow_up", "coding")
# criteria that need an executed program; a calibration line has only the spoken explanation
CODE_MEASURES = ("tests", "code_quality")


# ----------------------------------------------------------------------------- engines and hashes


def make_scorer(cfg: Config, engine: str, style: str = "neutral"):
    """The brain that scores: offline, or the LLM brain (with its offline fallback)."""
    if engine not in ("offline", "llm"):
        raise MockInterviewError(f"--engine {engine}: expected offline or llm")
    if engine == "llm" and not (cfg.llm.base_url or cfg.api_key()):
        # without an endpoint every answer would silently fall back to the offline engine
        raise MockInterviewError("--engine llm: no LLM endpoint is configured (set llm.base_url "
                                 "in the config file, or OPENAI_API_KEY)")
    from mockinterview.runner import make_brain

    return make_brain(cfg, engine, style)


def prompts_dir(cfg: Config) -> Path:
    return default_prompts_dir(cfg.prompts)


def version_hashes(bank: Bank, cfg: Config) -> dict[str, str]:
    """sha256 of every rubric file and prompt template: which versions produced a score."""
    hashes = {f"rubrics/{k}": v for k, v in sorted(bank.hashes.items())}
    pdir = prompts_dir(cfg)
    if pdir.is_dir():
        for p in sorted(pdir.glob("*.j2")):
            hashes[f"prompts/{p.name}"] = sha256_file(p)
    return hashes


def with_dirs(cfg: Config, rubrics: Path | None, prompts: Path | None) -> Config:
    update: dict[str, Any] = {}
    if rubrics is not None:
        update["rubrics"] = Path(rubrics)
    if prompts is not None:
        update["prompts"] = Path(prompts)
    return cfg.model_copy(update=update) if update else cfg


# ----------------------------------------------------------------------------- rescore


def answer_contexts(session: Session, bank: Bank, strict: bool = False
                    ) -> tuple[list[AnswerContext], list[str]]:
    """One AnswerContext per question answered in the session, rebuilt from its stored turns.

    Turns superseded by a voice command (``capture["command"]``: repeat, skip, pause...) are not
    answers and are left out, as the live flow left them out. Returns (contexts, problems), where a
    problem is a question that is no longer in the bank.
    """
    grouped: dict[str, list] = {}
    for t in session.turns:
        if not t.question_id or t.kind not in ANSWER_KINDS or "command" in t.capture:
            continue
        grouped.setdefault(t.question_id, []).append(t)
    runs = {r.question_id: r for r in session.coding_runs}  # the last run of each question wins
    contexts, problems = [], []
    for qid, turns in grouped.items():
        q = bank.questions.get(qid)
        if q is None:
            # a renamed or reworded question: find it by the words the interviewer asked
            first = next((t for t in turns if t.kind != "follow_up"), turns[0])
            found = find_question(first.prompt_text, first.section, bank)
            q = found.question
            if q is None:
                what = "matches two" if found.status == "ambiguous" else "matches no"
                problem = (f"{session.id}: turn {first.index}: question {qid} is not in the bank "
                           f"and its wording {what} bank question")
                if found.nearest:
                    problem += f"; nearest: {found.describe_nearest()}"
                if strict:
                    raise SessionError(problem)
                problems.append(problem + "; not re-scored")
                continue
            problems.append(f"{session.id}: question {qid} is not in the bank; scored as "
                            f"{q.id} (same wording, similarity {found.score:.0f})")
        rubric = bank.rubric(q.section)
        ctx = AnswerContext(question=q, rubric=rubric, answers=[], role=session.plan.role,
                            level=session.plan.level, style=session.plan.style,
                            section_terms=list(rubric.common_terms), pairs=list(bank.pairs))
        for t in turns:
            if t.kind == "follow_up":
                ctx.follow_ups.append(t.prompt_text)
            ctx.answers.append(t.transcript.text if t.transcript else "")
            if t.delivery is not None:
                ctx.delivery.append(t.delivery)
        ctx.max_follow_ups = max(1, len(ctx.follow_ups))
        if q.section == "coding" and qid in runs:
            ctx.coding = runs[qid].model_dump()
        contexts.append(ctx)
    return contexts, problems


@dataclass
class ScoreChange:
    """One row of the comparison: a criterion (or 'overall') of one answer, before and after."""

    question_id: str
    criterion: str
    before: float | None
    after: float | None

    @property
    def diff(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 2)


@dataclass
class RescoreResult:
    session_id: str
    folder: Path
    run: ScoringRun
    baseline_label: str  # what the "before" column is: a stored run id or the --against folder
    baseline: list[QuestionScore]
    changes: list[ScoreChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)  # rubric/prompt files edited since

    @property
    def changed(self) -> list[ScoreChange]:
        return [c for c in self.changes if c.diff not in (0, 0.0)]


def compare_scores(before: list[QuestionScore], after: list[QuestionScore]) -> list[ScoreChange]:
    """Rows per answer and criterion, in the order of the new scores, then answers only before."""
    b = {s.question_id: s for s in before}
    a = {s.question_id: s for s in after}
    order = [s.question_id for s in after] + [
        s.question_id for s in before if s.question_id not in a]
    rows = []
    for qid in order:
        sb, sa = b.get(qid), a.get(qid)
        lb = {c.criterion: c.level for c in sb.criteria} if sb else {}
        la = {c.criterion: c.level for c in sa.criteria} if sa else {}
        for crit in list(la) + [c for c in lb if c not in la]:
            rows.append(ScoreChange(qid, crit, lb.get(crit), la.get(crit)))
        rows.append(ScoreChange(qid, "overall", sb.overall if sb else None,
                                sa.overall if sa else None))
    return rows


def _score_all(brain, contexts: list[AnswerContext]) -> list[QuestionScore]:
    return [brain.score(ctx) for ctx in contexts]


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Files whose hash differs, or that exist in only one of the two versions."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def next_run_id(session: Session) -> str:
    used = [int(m.group(1)) for r in session.scoring_runs
            if (m := re.fullmatch(r"rescore-(\d+)", r.id))]
    return f"rescore-{max(used, default=0) + 1}"


def rescore_session(folder: Path, cfg: Config, engine: str = "offline",
                    rubrics: Path | None = None, prompts: Path | None = None,
                    against: Path | None = None, save: bool = True,
                    strict: bool = False) -> RescoreResult:
    """Re-score a stored session; append the run (and save atomically) unless ``save`` is False.

    The "before" column is the session's latest stored run, or with ``against`` the same answers
    scored with the bank in that folder (same engine), so two rubric versions face the same text.
    Raises SessionError for a damaged session, BankError for a broken bank.
    """
    folder = Path(folder)
    session = load_session(folder)
    cfg = with_dirs(cfg, rubrics, prompts)
    bank = load_bank(cfg.rubrics)
    if session.tailoring is not None and session.tailoring.generated:
        # the model's questions for the session's job are scored like the bank's (issue 19)
        from mockinterview.session.tailor import with_generated

        bank = with_generated(bank, session.tailoring.generated)
    brain = make_scorer(cfg, engine, session.plan.style)
    contexts, problems = answer_contexts(session, bank, strict)
    scores = _score_all(brain, contexts)
    run = ScoringRun(id=next_run_id(session), engine=getattr(brain, "name", engine),
                     rubric_dir=str(bank.root), prompt_dir=str(prompts_dir(cfg)),
                     hashes=version_hashes(bank, cfg), scores=scores)
    if against is not None:
        other = load_bank(Path(against))
        other_contexts, other_problems = answer_contexts(session, other)
        problems += [f"{p} (--against)" for p in other_problems]
        baseline = _score_all(brain, other_contexts)
        label = f"against {Path(against).name or against}"
        old_hashes = version_hashes(other, cfg)
    else:
        prev = session.scoring_runs[-1] if session.scoring_runs else None
        baseline = prev.scores if prev else []
        label = f"run {prev.id}" if prev else "no earlier run"
        # the live run of an interview keeps its versions in the session's own hashes
        old_hashes = (prev.hashes if prev and prev.hashes else session.hashes)
    result = RescoreResult(session_id=session.id, folder=folder, run=run, baseline_label=label,
                           baseline=baseline, changes=compare_scores(baseline, scores),
                           problems=problems,
                           changed_files=changed_files(old_hashes, run.hashes))
    if save:
        session.scoring_runs.append(run)
        save_session(session, folder)
    return result


def rescore_many(folders: list[Path], cfg: Config, **kw: Any
                 ) -> list[RescoreResult | SessionError]:
    """Each session's result, or the SessionError that says why it was skipped."""
    out: list[RescoreResult | SessionError] = []
    for f in folders:
        try:
            out.append(rescore_session(f, cfg, **kw))
        except SessionError as e:
            out.append(e)
    return out


# ----------------------------------------------------------------------------- calibration file


class CalibrationItem(BaseModel):
    """One graded answer: the question (bank id or text), the transcript and the coach's grade."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    question: str = Field(min_length=1)
    section: Section
    answer: str
    grade: int = Field(ge=1, le=5)
    key_points: list[str] | None = None
    kind: Literal["honest", "adversarial"] = "honest"
    note: str = ""


def load_calibration(path: Path) -> list[tuple[int, CalibrationItem]]:
    """Read a JSONL file; the first bad line raises CalibrationError ``file:line: what is
    wrong``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CalibrationError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") \
            from None
    items: list[tuple[int, CalibrationItem]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise CalibrationError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") \
                from None
        except RecursionError:
            raise CalibrationError(f"{where}: nested too deeply") from None
        if not isinstance(raw, dict):
            raise CalibrationError(f"{where}: expected a JSON object")
        if isinstance(raw.get("grade"), bool) or (isinstance(raw.get("grade"), float)
                                                  and not raw["grade"].is_integer()):
            raise CalibrationError(f"{where}: grade: expected a whole number from 1 to 5, "
                                   f"got {raw['grade']!r}")
        try:
            item = CalibrationItem.model_validate(raw)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err["loc"]) or "<line>"
            if err["type"] == "missing":
                msg = "required field missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif loc == "grade":
                msg = f"expected a whole number from 1 to 5, got {raw.get('grade')!r}"
            else:
                msg = err["msg"]
            raise CalibrationError(f"{where}: {loc}: {msg}") from None
        if not item.answer.strip() and item.kind == "adversarial":
            raise CalibrationError(f"{where}: answer: an adversarial item needs an answer")
        items.append((lineno, item))
    if not items:
        raise CalibrationError(f"{path}: no graded answers in this file")
    return items


def _norm_words(text: str) -> list[str]:
    from mockinterview.textnorm import normalize

    return normalize(text)


# words that only say "answer this" ("Explain...", "Can you walk me through..."): a coach's own
# wording of a bank question differs in them more than in anything else
_ASKING = frozenset("""explain describe discuss tell talk walk give outline define briefly please
overview us me go through can could would you let let's lets say whats hows whys whos thats
youd id im ive write implement code function""".split())
MATCH_ACCEPT = 85.0  # similarity (0-100) a coach's wording needs to count as a bank question
MATCH_MARGIN = 5.0  # the best match must beat the next one by this much, else it is ambiguous


def _question_words(text: str, stemmed: bool = True) -> list[str]:
    from mockinterview.interviewer.scoring import STOPWORDS, stem

    words = [w for w in _norm_words(text) if w not in STOPWORDS and w not in _ASKING]
    return [stem(w) for w in words] if stemmed else words


def question_similarity(a: str, b: str) -> float:
    """How alike two wordings of a question are, 0-100, robust to what coaches change.

    Normalised first (hyphens split, British spellings, number words: ``textnorm.normalize``),
    stemmed, with stop words and asking words ("explain", "describe") left out; then the best of
    three views: shared words over the longer question's words (word order and "how does X work"
    vs "describe how X works"), rapidfuzz's token-sort ratio (a typo or changed word), and the
    words run together (so "tradeoff" meets "trade-off").
    """
    from rapidfuzz import fuzz

    wa, wb = _question_words(a), _question_words(b)
    if not wa or not wb:
        return 0.0
    sa, sb = set(wa), set(wb)
    overlap = 100.0 * len(sa & sb) / max(len(sa), len(sb))
    sort = fuzz.token_sort_ratio(" ".join(wa), " ".join(wb))
    joined = fuzz.ratio("".join(_question_words(a, False)), "".join(_question_words(b, False)))
    return round(max(overlap, sort, joined), 1)


@dataclass
class QuestionMatch:
    """Which bank question a line names, and how: ``question`` is None when it names none
    (``status`` "unmatched") or two (``status`` "ambiguous"); ``nearest`` lists the closest bank
    questions with their similarity, for the report."""

    question: Question | None
    status: str  # "id", "text", "close", "unmatched", "ambiguous"
    score: float = 100.0
    nearest: list[tuple[Question, float]] = field(default_factory=list)

    def describe_nearest(self, n: int = 3) -> str:
        return "; ".join(f"{q.id} \"{q.text}\" ({s:.0f})" for q, s in self.nearest[:n])


def find_question(text: str, section: str | None, bank: Bank) -> QuestionMatch:
    """A bank question from its id, its text (normalised) or a close wording in the same section.

    Exact id first, then the normalised text or rephrasing, then :func:`question_similarity`
    against every question of the section: accepted at ``MATCH_ACCEPT`` or above when no other
    question comes within ``MATCH_MARGIN``. Measured on the calibration files: every line of
    graded.jsonl and heldout.jsonl resolves, and the wordings of tests/data/coach-wordings.jsonl
    resolve to the intended question.
    """
    if text in bank.questions:
        return QuestionMatch(bank.questions[text], "id")
    want = _norm_words(text)
    pool = [q for q in bank.questions.values() if section is None or q.section == section]
    for q in pool:
        if want == _norm_words(q.text) or (q.rephrasing and want == _norm_words(q.rephrasing)):
            return QuestionMatch(q, "text")
    scored = []
    for q in pool:
        s = max(question_similarity(text, c) for c in filter(None, (q.text, q.rephrasing)))
        scored.append((q, s))
    scored.sort(key=lambda x: (-x[1], x[0].id))
    if not scored or scored[0][1] < MATCH_ACCEPT:
        return QuestionMatch(None, "unmatched", scored[0][1] if scored else 0.0, scored[:3])
    if len(scored) > 1 and scored[1][1] >= MATCH_ACCEPT and \
            scored[0][1] - scored[1][1] < MATCH_MARGIN:
        return QuestionMatch(None, "ambiguous", scored[0][1], scored[:3])
    return QuestionMatch(scored[0][0], "close", scored[0][1], scored[:3])


def match_question(text: str, section: str, bank: Bank, min_overlap: float = 0.8
                   ) -> Question | None:
    """The bank question a line names, or None (see :func:`find_question`); ``min_overlap`` is
    kept for callers of the old Jaccard matcher and no longer used."""
    return find_question(text, section, bank).question


def _adhoc_question(item: CalibrationItem, lineno: int, where: str) -> Question:
    if not item.key_points:
        raise CalibrationError(f"{where}: question: not in the bank and no key_points given "
                               "(add key_points to score it with the section's criteria)")
    try:
        kps = [KeyPoint(id=f"kp{i + 1}", point=p.strip(),
                        phrasings=[p.strip()] if len(p.split()) <= 6 else [])
               for i, p in enumerate(item.key_points)]
        return Question(id=f"adhoc-line-{lineno}", section=item.section, text=item.question,
                        roles=["ml-engineer", "data-scientist", "genai-engineer"],
                        levels=["junior", "mid", "senior"], key_points=kps)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        field_name = "question" if loc == "text" else loc.replace("point", "").strip(".")
        raise CalibrationError(f"{where}: {field_name}: {err['msg']}") from None


def spoken_rubric(rubric: SectionRubric) -> SectionRubric:
    """A coding rubric without the criteria that need an executed program, weights renormalised.

    A calibration line carries the spoken walk-through only, so scoring it on hidden tests it never
    ran would grade every answer 1 there and hide what the coach graded.
    """
    keep = [c for c in rubric.criteria if c.measure not in CODE_MEASURES]
    if not keep or len(keep) == len(rubric.criteria):
        return rubric
    total = sum(c.weight for c in keep)
    return rubric.model_copy(update={"criteria": [c.model_copy(update={"weight": c.weight / total})
                                                  for c in keep]})


@dataclass
class CalibratedItem:
    line: int
    id: str
    question_id: str
    section: str
    kind: str
    grade: int
    predicted: int
    overall: float
    in_bank: bool
    note: str = ""
    answer: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "question_id": self.question_id,
                "section": self.section, "kind": self.kind, "grade": self.grade,
                "predicted": self.predicted, "overall": self.overall, "in_bank": self.in_bank}


@dataclass
class Agreement:
    """Agreement figures over a set of items (None where a figure is undefined, e.g. no spread)."""

    n: int
    spearman: float | None
    qwk: float | None
    mae: float
    exact: float
    within_one: float

    @classmethod
    def of(cls, items: list[CalibratedItem]) -> Agreement:
        g = [i.grade for i in items]
        p = [i.predicted for i in items]
        return cls(n=len(items), spearman=_r(agreement.spearman(g, p)),
                   qwk=_r(agreement.quadratic_weighted_kappa(g, p)),
                   mae=round(agreement.mean_absolute_error(g, p), 3),
                   exact=round(agreement.share_within(g, p, 0), 3),
                   within_one=round(agreement.share_within(g, p, 1), 3))


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


@dataclass
class CalibrationReport:
    path: Path
    engine: str
    rubric_dir: str
    hashes: dict[str, str]
    items: list[CalibratedItem]
    overall: Agreement
    per_section: dict[str, Agreement]
    honest: Agreement
    adversarial_max: int | None  # the highest predicted grade among adversarial items
    # lines naming no bank question, or two: "file:line: ...; nearest: ..." (not scored)
    unmatched: list[str] = field(default_factory=list)

    @property
    def adversarial_above_2(self) -> tuple[int, int]:
        """(adversarial answers predicted above 2, adversarial answers): confidently wrong,
        padded or grader-instructing answers a coach grades 1-2."""
        adv = [i for i in self.items if i.kind == "adversarial"]
        return sum(1 for i in adv if i.predicted > 2), len(adv)

    @property
    def top_given_top(self) -> tuple[int, int]:
        """(honest grade-5 answers predicted 5, honest grade-5 answers): is the top reachable."""
        top = [i for i in self.items if i.kind == "honest" and i.grade == 5]
        return sum(1 for i in top if i.predicted == 5), len(top)

    @property
    def worst(self) -> list[CalibratedItem]:
        bad = [i for i in self.items if i.predicted != i.grade]
        return sorted(bad, key=lambda i: (-abs(i.predicted - i.grade), i.line))

    def as_json(self) -> dict[str, Any]:
        a = self.overall
        return {"n": a.n, "spearman": a.spearman, "qwk": a.qwk, "mae": a.mae, "exact": a.exact,
                "within_one": a.within_one, "honest_spearman": self.honest.spearman,
                "honest_n": self.honest.n, "adversarial_max": self.adversarial_max,
                "engine": self.engine, "rubric_dir": self.rubric_dir,
                "unmatched": list(self.unmatched),
                "adversarial_above_2": list(self.adversarial_above_2),
                "grade5_given_5": list(self.top_given_top),
                "honest_exact": self.honest.exact,
                "per_section": {k: v.__dict__ for k, v in self.per_section.items()},
                "items": [i.as_json() for i in self.items]}


def calibrate(path: Path, cfg: Config, engine: str = "offline", rubrics: Path | None = None,
              prompts: Path | None = None, strict: bool = False) -> CalibrationReport:
    """Score every graded answer in ``path`` and measure agreement with the coach's grades.

    A line whose question matches no bank question (or two) and carries no key_points of its own
    is listed in ``unmatched`` with the nearest bank questions, and the rest is still scored;
    ``strict`` raises CalibrationError on the first such line instead.
    """
    items = load_calibration(path)
    cfg = with_dirs(cfg, rubrics, prompts)
    bank = load_bank(cfg.rubrics)
    brain = make_scorer(cfg, engine)
    out: list[CalibratedItem] = []
    unmatched: list[str] = []
    for lineno, item in items:
        where = f"{path}:{lineno}"
        found = find_question(item.question, item.section, bank)
        q = found.question
        in_bank = q is not None
        problem = None
        if q is None and not item.key_points:
            what = "matches two bank questions" if found.status == "ambiguous" else \
                "matches no bank question"
            problem = (f"{where}: question: {_clip(item.question)!r} {what} in section "
                       f"{item.section}")
            if found.nearest:
                problem += f"; nearest: {found.describe_nearest()}"
            if not strict:
                problem += "; not scored (add key_points to score it, or use the bank's wording)"
        elif q is None:
            q = _adhoc_question(item, lineno, where)
        elif q.section != item.section:
            problem = (f"{where}: section: {item.section} does not match the bank question "
                       f"{q.id}, which is in {q.section}")
        if problem:
            if strict:
                raise CalibrationError(problem)
            unmatched.append(problem)
            continue
        assert q is not None
        try:
            rubric = spoken_rubric(bank.rubric(q.section))
        except MockInterviewError:
            raise CalibrationError(f"{where}: section: the bank has no rubric for "
                                   f"{q.section}") from None
        delivery: Delivery = delivery_metrics(Transcript(text=item.answer, source="text"))
        ctx = AnswerContext(question=q, rubric=rubric, answers=[item.answer], delivery=[delivery],
                            section_terms=list(rubric.common_terms), pairs=list(bank.pairs))
        score = brain.score(ctx)
        predicted = min(5, max(1, agreement.round_half_up(score.overall)))
        out.append(CalibratedItem(line=lineno, id=item.id or f"line-{lineno}", question_id=q.id,
                                  section=item.section, kind=item.kind, grade=item.grade,
                                  predicted=predicted, overall=score.overall, in_bank=in_bank,
                                  note=item.note, answer=item.answer))
    if not out:
        raise CalibrationError(f"{path}: no line matched a bank question ({len(unmatched)} "
                               f"unmatched); first: {unmatched[0] if unmatched else '-'}")
    sections = sorted({i.section for i in out})
    honest = [i for i in out if i.kind == "honest"]
    adversarial = [i for i in out if i.kind == "adversarial"]
    return CalibrationReport(
        path=Path(path), engine=getattr(brain, "name", engine), rubric_dir=str(bank.root),
        hashes=version_hashes(bank, cfg), items=out, overall=Agreement.of(out),
        per_section={s: Agreement.of([i for i in out if i.section == s]) for s in sections},
        honest=Agreement.of(honest),
        adversarial_max=max((i.predicted for i in adversarial), default=None),
        unmatched=unmatched,
    )


def _clip(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ----------------------------------------------------------------------------- export


def export_grades(folders: list[Path], bank: Bank | None = None, strict: bool = False
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    """Reviewer annotations with levels, as calibration lines; plus the problems met.

    grade = the rounded mean of the reviewer's levels on that answer; answer = the transcript of
    every answer turn of the question (main answer and follow-ups), as the engine saw it. With a
    ``bank``, a question id the bank no longer has is looked up by the words the interviewer asked
    (:func:`find_question`); a line that still matches nothing is exported with the asked text
    and listed in the problems with the nearest bank questions (``strict`` raises instead).
    """
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    for folder in folders:
        try:
            session = load_session(Path(folder))
        except SessionError as e:
            problems.append(str(e))
            continue
        by_turn = {t.index: t for t in session.turns}
        for n, note in enumerate(session.annotations):
            if not note.levels:
                continue
            qid = note.question_id
            if qid is None and note.turn is not None and note.turn in by_turn:
                qid = by_turn[note.turn].question_id
            if qid is None:
                problems.append(f"{session.id}: annotation {n + 1} is not on a question; skipped")
                continue
            turns = [t for t in session.turns if t.question_id == qid
                     and t.kind in ANSWER_KINDS and "command" not in t.capture]
            answer = "\n".join(t.transcript.text for t in turns if t.transcript)
            section = turns[0].section if turns else by_turn.get(note.turn or -1, None)
            section = section if isinstance(section, str) else None
            if not section or not answer.strip():
                problems.append(f"{session.id}: annotation {n + 1} on {qid} has no transcript; "
                                "skipped")
                continue
            levels = list(note.levels.values())
            grade = min(5, max(1, agreement.round_half_up(sum(levels) / len(levels))))
            question = qid
            if bank is not None and qid not in bank.questions:
                asked = next((t.prompt_text for t in turns if t.kind != "follow_up"),
                             turns[0].prompt_text)
                found = find_question(asked, section, bank)
                if found.question is not None:
                    question = found.question.id
                else:
                    what = "matches two" if found.status == "ambiguous" else "matches no"
                    problem = (f"{session.id}: annotation {n + 1}: question {qid} is not in the "
                               f"bank and its wording {what} bank question")
                    if found.nearest:
                        problem += f"; nearest: {found.describe_nearest()}"
                    if strict:
                        raise CalibrationError(problem)
                    problems.append(problem + "; exported with the asked text")
                    question = asked
            lines.append({"id": f"{session.id}:{qid}:{n + 1}", "question": question,
                          "section": section, "answer": answer, "grade": grade,
                          "kind": "honest",
                          "note": f"exported from {note.reviewer}'s review"
                                  + (f": {note.comment}" if note.comment else "")})
    return lines, problems


def write_jsonl(lines: list[dict[str, Any]], path: Path) -> None:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    atomic_write_text(Path(path), text)
