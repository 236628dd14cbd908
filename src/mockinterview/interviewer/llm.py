"""The model-backed interviewer: follow-ups, rubric scores and feedback from any OpenAI-compatible
server (OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio). Transport, retries, fault
classification and scrubbing live in :mod:`mockinterview.interviewer.client`; this module holds the
prompts and the parsing.

Why it looks the way it does:

- **The interview never stops for the model.** When the client's bounded retries are spent, or the
  fault cannot be cured by retrying (401, unknown model, context too long, a refusal), the offline
  engine answers that one call instead, and the fault is reported through ``on_fault(kind, data)``
  so the flow records it as a session event. The fallback is built into :class:`LLMBrain` (not a
  wrapper) because only the brain knows what was already spoken when a stream breaks mid-way.
- **Speak early.** :meth:`LLMBrain.follow_up` yields each streamed sentence as soon as it is
  complete, so the flow speaks the first sentence while the model is still writing the rest.
- **Scores carry evidence.** The model returns JSON validated by pydantic (a level 1-5, a rationale
  and quotes per rubric criterion). ``response_format=json_schema`` is tried first; a server that
  rejects it gets plain JSON instructions (the prompt always carries them) and one repair attempt.
  Every quote is checked against the transcript; a quote that does not occur is dropped and
  counted in ``QuestionScore.dropped_quotes``.
- **The candidate's words are data.** Templates fence them (see
  :mod:`mockinterview.interviewer.prompts`), and an answer that tries to instruct the grader is
  capped at level 2, exactly as the offline engine does, whatever the model said.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from mockinterview.clock import REAL_CLOCK, Clock
from mockinterview.config import Config
from mockinterview.errors import PromptError
from mockinterview.interviewer.base import AnswerContext, Brain, FaultHook
from mockinterview.interviewer.client import (
    LLMFault,
    LLMOptions,
    ModelClient,
)
from mockinterview.interviewer.prompts import NO_FOLLOW_UP, Fence, Prompts, default_prompts_dir
from mockinterview.schema import (
    CriterionScore,
    Feedback,
    FollowUpPlan,
    Question,
    QuestionScore,
    RoleProfile,
)

log = logging.getLogger(__name__)

ROLE_TITLES = {"ml-engineer": "Machine Learning Engineer", "data-scientist": "Data Scientist",
               "genai-engineer": "GenAI Engineer"}


# ----------------------------------------------------------------------------- output models


class _CriterionOut(BaseModel):
    criterion: str
    level: int = Field(ge=1, le=5)
    rationale: str = ""
    evidence: list[str] = Field(default_factory=list, max_length=10)


class _ScoreOut(BaseModel):
    criteria: list[_CriterionOut] = Field(min_length=1)
    covered: list[str] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)


class _FollowUpPlanOut(BaseModel):
    focus: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)


class _FeedbackOut(BaseModel):
    summary: str = ""
    strengths: list[str] = Field(min_length=1)
    improvements: list[str] = Field(min_length=1)
    next_step: str = Field(min_length=3)
    follow_up: _FollowUpPlanOut | None = None


def _score_schema(criteria: list[str]) -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "required": ["criteria", "covered", "missed"],
        "properties": {
            "criteria": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["criterion", "level", "rationale", "evidence"],
                "properties": {
                    "criterion": {"type": "string", "enum": criteria},
                    "level": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
                    "rationale": {"type": "string"},
                    "evidence": {"type": "array", "items": {"type": "string"}},
                }}},
            "covered": {"type": "array", "items": {"type": "string"}},
            "missed": {"type": "array", "items": {"type": "string"}},
        },
    }


_FEEDBACK_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["summary", "strengths", "improvements", "next_step", "follow_up"],
    "properties": {
        "summary": {"type": "string"},
        "strengths": {"type": "array", "items": {"type": "string"}},
        "improvements": {"type": "array", "items": {"type": "string"}},
        "next_step": {"type": "string"},
        "follow_up": {"type": "object", "additionalProperties": False,
                      "required": ["focus", "questions"],
                      "properties": {"focus": {"type": "array", "items": {"type": "string"}},
                                     "questions": {"type": "array", "items": {"type": "string"}}}},
    },
}


def extract_json(text: str) -> Any:
    """The JSON object in a reply, tolerating code fences and prose around it."""
    t = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", t, re.DOTALL)
    if fenced:
        t = fenced.group(1).strip()
    if not t.startswith("{"):
        i, j = t.find("{"), t.rfind("}")
        if i < 0 or j <= i:
            raise ValueError("the reply holds no JSON object")
        t = t[i:j + 1]
    return json.loads(t)


# ----------------------------------------------------------------------------- the brain


class LLMBrain:
    """A :class:`~mockinterview.interviewer.base.Brain` backed by an OpenAI-compatible model.

    ``fallback``: the brain that answers a call the model could not (default: a lazily created
    :class:`~mockinterview.interviewer.offline.OfflineBrain`). ``on_fault(kind, data)``: called,
    possibly from a background scoring thread, for every fault; ``data`` never holds the key.
    ``profiles``: role profiles by role id, used for the persona's company and team.
    ``role``/``level``: the interview's, for the persona of feedback (the protocol omits them).
    ``clock``: deadlines and backoff (:mod:`mockinterview.clock`; the flow's, so a simulated
    interview's budgets and the model's retries share one timeline).
    """

    name = "llm"

    def __init__(self, config: Config, *, prompts_dir: Path | None = None,
                 fallback: Brain | None = None, on_fault: FaultHook | None = None,
                 profiles: dict[str, RoleProfile] | None = None,
                 options: LLMOptions | None = None, role: str = "ml-engineer",
                 level: str = "mid", clock: Clock = REAL_CLOCK):
        self.config = config
        self.llm = config.llm
        self.model = config.llm.model
        self.options = options or LLMOptions()
        self.prompts = Prompts(prompts_dir or default_prompts_dir(config.prompts))
        self.hashes = dict(self.prompts.hashes)  # prompts/<file> -> sha256, for session.hashes
        self.on_fault = on_fault
        self.profiles = profiles or {}
        self.role, self.level = role, level  # the persona of feedback and candidate answers
        self._fallback = fallback
        self._lock = threading.Lock()
        self._schema_rejected = not config.llm.json_schema
        self.client = ModelClient(config, self.options, clock)
        self._scrub = self.client.scrub
        self.faults: list[tuple[str, dict[str, Any]]] = []  # what on_fault was given, in order

    @property
    def engine(self) -> str:
        return f"llm:{self.model}"

    # ------------------------------------------------------------------ fault plumbing

    def fallback_brain(self) -> Brain:
        with self._lock:
            if self._fallback is None:
                from mockinterview.interviewer.offline import (
                    OfflineBrain,  # lazy: the offline engine is optional here
                )

                self._fallback = OfflineBrain()
            return self._fallback

    def _report(self, kind: str, call: str, message: str, **extra: Any) -> None:
        data: dict[str, Any] = {"call": call, "model": self.model,
                                "error": self._scrub(message), **extra}
        data = {k: (self._scrub(v) if isinstance(v, str) else v) for k, v in data.items()}
        self.faults.append((kind, data))
        log.warning("model fault %s in %s: %s", kind, call, data["error"])
        if self.on_fault is not None:
            try:
                self.on_fault(kind, data)
            except Exception as e:  # noqa: BLE001 - a broken hook must not end the interview
                log.error("on_fault hook failed: %s", self._scrub(e))

    def _fault(self, f: LLMFault, call: str, fallback: str | None = "offline",
               **extra: Any) -> None:
        self._report(f.kind, call, f.message, attempts=f.attempts, fallback=fallback, **extra)

    # ------------------------------------------------------------------ prompts

    def _persona(self, role: str, level: str, style: str) -> str:
        prof = self.profiles.get(role)
        return self.prompts.render_text(
            "persona.j2", role=role, role_title=prof.title if prof else ROLE_TITLES.get(role, role),
            level=level, style=style, company=prof.company if prof else "",
            team=prof.team if prof else "")

    @staticmethod
    def _answers_text(ctx: AnswerContext) -> str:
        parts = []
        for i, a in enumerate(ctx.answers):
            if not a.strip():
                continue
            if len(ctx.answers) > 1:
                label = ("[answer to the main question]" if i == 0 else
                         f"[answer to follow-up {i}]")
                parts.append(f"{label}\n{a.strip()}")
            else:
                parts.append(a.strip())
        return "\n\n".join(parts) or "(no answer was given)"

    def follow_up_messages(self, ctx: AnswerContext) -> list[dict[str, str]]:
        fence = Fence.new()
        return self.prompts.render_messages(
            "follow_up.j2", persona=self._persona(ctx.role, ctx.level, ctx.style), style=ctx.style,
            section=ctx.question.section, question=ctx.question.text,
            key_points=[{"id": k.id, "point": k.point} for k in ctx.question.key_points],
            asked=list(ctx.follow_ups),
            follow_ups_left=max(0, ctx.max_follow_ups - len(ctx.follow_ups)),
            max_follow_ups=ctx.max_follow_ups, remaining_s=float(ctx.remaining_s),
            section_remaining_s=float(ctx.section_remaining_s), no_follow_up=NO_FOLLOW_UP,
            transcript=fence.wrap(self._answers_text(ctx)), **fence.vars())

    def score_messages(self, ctx: AnswerContext) -> list[dict[str, str]]:
        fence = Fence.new()
        q = ctx.question
        delivery = None
        if ctx.delivery:
            ds = ctx.delivery
            wpms = [d.wpm for d in ds if d.wpm > 0]
            delivery = {"wpm": sum(wpms) / len(wpms) if wpms else 0.0,
                        "filler_rate": sum(d.filler_rate for d in ds) / len(ds),
                        "long_pauses": sum(d.long_pauses for d in ds)}
        coding = None
        if ctx.coding:
            coding = {"verdict": ctx.coding.get("verdict", "unknown"),
                      "passed": ctx.coding.get("passed", 0), "total": ctx.coding.get("total", 0)}
        from mockinterview.interviewer.claims import relevant_pairs

        pairs = [{"a": p.sides[0].term, "a_means": p.sides[0].defines[0],
                  "b": p.sides[1].term, "b_means": p.sides[1].defines[0]}
                 for p in relevant_pairs(q, ctx.pairs, self._answers_text(ctx))]
        return self.prompts.render_messages(
            "score.j2", section=q.section, role=ctx.role, level=ctx.level, question=q.text,
            key_points=[{"id": k.id, "point": k.point} for k in q.key_points],
            misconceptions=[m.claim for m in q.misconceptions],
            wrong_claims=[{"claim": m.claim, "correction": m.correction, "kind": m.kind}
                          for m in q.misconceptions],
            pairs=pairs, outline=q.outline,
            criteria=[{"id": c.id, "name": c.name, "weight": c.weight, "levels": dict(c.levels)}
                      for c in ctx.rubric.criteria],
            asked=list(ctx.follow_ups), transcript=fence.wrap(self._answers_text(ctx)),
            delivery=delivery, coding=coding, **fence.vars())

    # ------------------------------------------------------------------ Brain: follow-ups

    def follow_up(self, ctx: AnswerContext) -> Iterator[str]:
        """Sentences of one follow-up, streamed; the offline engine's when the model fails."""
        if len(ctx.follow_ups) >= ctx.max_follow_ups or not ctx.transcript.strip():
            return
        spoken: list[str] = []
        try:
            for s in self.client.spoken(self.follow_up_messages(ctx), NO_FOLLOW_UP):
                spoken.append(s)
                yield s
            return
        except LLMFault as f:
            self._fault(f, "follow_up", question_id=ctx.question.id, spoken=len(spoken))
        except PromptError as e:
            self._report("prompt_error", "follow_up", str(e), fallback="offline")
        if spoken and spoken[-1].rstrip().endswith("?"):
            return  # the question itself was already spoken
        yield from self.fallback_brain().follow_up(ctx)

    # ------------------------------------------------------------------ Brain: scoring

    def _structured(self, call: str, messages: list[dict[str, str]], schema_name: str,
                    schema: dict[str, Any], parse: Callable[[str], Any]) -> Any:
        """JSON from the model, validated by ``parse``: json_schema first, else plain JSON;
        one repair attempt on an invalid reply. Raises LLMFault."""
        rf: dict[str, Any] | None = None
        if not self._schema_rejected:
            rf = {"type": "json_schema",
                  "json_schema": {"name": schema_name, "strict": True, "schema": schema}}
        try:
            content = self.client.complete(messages, live=False, response_format=rf,
                                     temperature=self.options.temperature_score)
        except LLMFault as f:
            if f.kind != "schema_rejected" or rf is None:
                raise
            self._schema_rejected = True
            self._report("json_schema_rejected", call, f.message, fallback="plain_json")
            rf = None
            content = self.client.complete(messages, live=False,
                                     temperature=self.options.temperature_score)
        try:
            return parse(content)
        except (ValueError, ValidationError) as e:
            problem = _problem(e)
        log.info("model reply for %s invalid (%s); asking for one repair", call, problem)
        repair = messages + [
            {"role": "assistant", "content": content[: self.options.max_repair_chars]},
            {"role": "user", "content": f"That reply is not valid: {problem}. Reply again with "
                                        "only the corrected JSON object, in the required shape."}]
        content = self.client.complete(repair, live=False, response_format=rf,
                                       temperature=self.options.temperature_score)
        try:
            return parse(content)
        except (ValueError, ValidationError) as e:
            fault = LLMFault("malformed_json",
                             f"the model's JSON was invalid twice: {_problem(e)}")
            fault.attempts = 2
            raise fault from None

    def score(self, ctx: AnswerContext) -> QuestionScore:
        """Per-criterion levels with verified evidence; the offline engine's when the model
        fails."""
        try:
            messages = self.score_messages(ctx)
            ids = [c.id for c in ctx.rubric.criteria]
            out: _ScoreOut = self._structured("score", messages, "question_score",
                                              _score_schema(ids), lambda t: _parse_score(t, ids))
        except LLMFault as f:
            self._fault(f, "score", question_id=ctx.question.id)
            return self._fallback_score(ctx, f.kind)
        except PromptError as e:
            self._report("prompt_error", "score", str(e), fallback="offline",
                         question_id=ctx.question.id)
            return self._fallback_score(ctx, "prompt_error")
        self.client.server_answered()
        return self._to_score(ctx, out)

    def _fallback_score(self, ctx: AnswerContext, kind: str) -> QuestionScore:
        s = self.fallback_brain().score(ctx)
        return s.model_copy(update={"notes": [*s.notes, f"scored by the offline engine: the model "
                                                         f"failed ({kind})"]})

    def _to_score(self, ctx: AnswerContext, out: _ScoreOut) -> QuestionScore:
        from mockinterview.interviewer.scoring import injection_attempts, verify_quotes

        transcript = ctx.transcript
        injected = injection_attempts(transcript)
        dropped_total = 0
        by_id = {c.criterion: c for c in out.criteria}
        results: list[CriterionScore] = []
        for crit in ctx.rubric.criteria:
            c = by_id[crit.id]
            kept, dropped = verify_quotes([q for q in c.evidence if q.strip()], transcript)
            dropped_total += dropped + sum(1 for q in c.evidence if not q.strip())
            level = min(c.level, 2) if injected else c.level
            results.append(CriterionScore(criterion=crit.id, level=level,
                                          rationale=c.rationale.strip(), evidence=kept))
        weights = {c.id: c.weight for c in ctx.rubric.criteria}
        overall = sum(weights[r.criterion] * r.level for r in results) / sum(weights.values())
        kp_ids = [k.id for k in ctx.question.key_points]
        covered = [k for k in kp_ids if k in set(out.covered)]
        missed = [k for k in kp_ids if k not in set(covered)]
        notes = []
        if dropped_total:
            notes.append(f"{dropped_total} evidence quote(s) not found in the transcript were "
                         "dropped")
        if injected:
            notes.append("the answer tries to instruct the grader; capped at level 2")
        results, overall, checked = _check_against_bank(ctx, results, overall, covered)
        notes += checked
        return QuestionScore(question_id=ctx.question.id, section=ctx.question.section,
                             criteria=results, overall=round(max(1.0, min(5.0, overall)), 2),
                             covered=covered, missed=missed, dropped_quotes=dropped_total,
                             engine=self.engine, notes=notes)

    # ------------------------------------------------------------------ Brain: feedback

    def feedback(self, scores: list[QuestionScore], questions: dict[str, Question],
                 style: str) -> Feedback:
        """Two strengths, two improvements, one next step; the follow-up plan (question ids)
        comes from the offline engine, so it always names questions that exist in the bank."""
        base = self.fallback_brain().feedback(scores, questions, style)
        if not scores:
            return base
        try:
            fence = Fence.new()
            messages = self.prompts.render_messages(
                "feedback.j2", persona=self._persona(self.role, self.level, style), style=style,
                results=fence.wrap(_results_text(scores, questions)), **fence.vars())
            out: _FeedbackOut = self._structured("feedback", messages, "feedback",
                                                 _FEEDBACK_SCHEMA,
                                                 lambda t: _FeedbackOut.model_validate(
                                                     extract_json(t)))
        except LLMFault as f:
            self._fault(f, "feedback")
            return base
        except PromptError as e:
            self._report("prompt_error", "feedback", str(e), fallback="offline")
            return base
        plan = base.follow_up or FollowUpPlan()
        if out.follow_up and out.follow_up.focus:
            plan = plan.model_copy(update={"focus": [f.strip() for f in out.follow_up.focus
                                                     if f.strip()][:3] or plan.focus})
        return Feedback(summary=out.summary.strip(),
                        strengths=[s.strip() for s in out.strengths][:2],
                        improvements=[s.strip() for s in out.improvements][:2],
                        next_steps=[out.next_step.strip()], follow_up=plan, engine=self.engine)

    # ------------------------------------------------------------------ Brain: candidate questions

    def answer_candidate(self, text: str, profile: RoleProfile, style: str) -> Iterator[str]:
        """Answer the candidate's question in persona, streamed; offline answer on failure."""
        spoken = 0
        try:
            fence = Fence.new()
            messages = self.prompts.render_messages(
                "candidate_question.j2", persona=self._persona(profile.role, self.level, style),
                style=style, profile=profile.model_dump(), candidate_question=fence.wrap(text),
                **fence.vars())
            for s in self.client.spoken(messages, None):
                spoken += 1
                yield s
            return
        except LLMFault as f:
            self._fault(f, "answer_candidate", spoken=spoken)
        except PromptError as e:
            self._report("prompt_error", "answer_candidate", str(e), fallback="offline")
        if not spoken:
            yield from self.fallback_brain().answer_candidate(text, profile, style)


def make_llm_brain(config: Config, *, style: str = "neutral", on_fault: FaultHook | None = None,
                   role: str = "ml-engineer", level: str = "mid",
                   profiles: dict[str, RoleProfile] | None = None) -> LLMBrain:
    """The LLM engine as the runner wires it: the offline engine (in the session's style) answers
    any call the model fails, and ``on_fault`` records each fault as a session event."""
    from mockinterview.interviewer.offline import OfflineBrain

    return LLMBrain(config, fallback=OfflineBrain(style), on_fault=on_fault, role=role,
                    level=level, profiles=profiles)


# ----------------------------------------------------------------------------- helpers


def _problem(e: BaseException) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "<top>"
        return f"{loc}: {err['msg']}"
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


# criteria whose level says the content is right; a stated misconception caps them at 2
_CONTENT_MEASURES = ("correctness", "coverage", "depth", "explanation")


def _check_against_bank(ctx: AnswerContext, results: list[CriterionScore], overall: float,
                        covered: list[str]) -> tuple[list[CriterionScore], float, list[str]]:
    """The model's verdict checked against the bank, which it never replaces.

    The offline reading of the answer (:func:`claims.read_claims`: the question's misconceptions,
    reversed key-point claims and the bank's swapped pairs) runs on the same transcript. When it
    finds a wrong claim, a level 4 or 5 the model gave a content criterion is lowered to 2 and the
    overall capped at 2, with the reason in the rationale and the notes, and the bank's correction
    is recorded. Key points the model counts as covered but whose phrasings and claims the answer
    never uses are noted as not verified offline.
    """
    from mockinterview.interviewer.claims import read_claims
    from mockinterview.interviewer.scoring import Tokens, match_key_point

    q = ctx.question
    notes: list[str] = []
    if q.section not in ("technical", "coding", "system_design"):
        return results, overall, notes
    report = read_claims(ctx.transcript, q, ctx.pairs)
    if report.wrong:
        first = report.wrong[0]
        measures = {c.id: c.measure for c in ctx.rubric.criteria}
        lowered = []
        out = []
        for r in results:
            if measures.get(r.criterion) in _CONTENT_MEASURES and r.level >= 4:
                lowered.append(f"{r.criterion} {r.level}->2")
                r = r.model_copy(update={
                    "level": 2, "rationale": (r.rationale + f" Lowered from {r.level}: the answer "
                                              f"states a misconception ({first.claim}).").strip()})
            out.append(r)
        results = out
        if lowered or overall > 2:
            overall = min(overall, 2.0)
            notes.append("lowered by the bank check (" + (", ".join(lowered) or "overall")
                         + f"): the answer states a misconception: {first.claim}")
        notes += [f"correction: {w.feedback()}" for w in report.wrong[:3]]
    tokens = Tokens.of(ctx.transcript)
    by_id = {p.key_point: p for p in report.points}
    unverified = []
    for kp_id in covered:
        kp = q.key_point(kp_id)
        if kp is None:
            continue
        named = match_key_point(tokens, kp).covered
        stated = by_id.get(kp_id) is not None and by_id[kp_id].stated is not None
        if not named and not stated:
            unverified.append(kp_id)
    if unverified:
        notes.append("not verified offline: the model counts " + ", ".join(unverified)
                     + " as covered; the answer uses none of the bank's words or claims for it")
    return results, overall, notes


def _parse_score(text: str, criteria: list[str]) -> _ScoreOut:
    out = _ScoreOut.model_validate(extract_json(text))
    seen = [c.criterion for c in out.criteria]
    unknown = [c for c in seen if c not in criteria]
    if unknown:
        raise ValueError(f"unknown criterion '{unknown[0]}' "
                         f"(the criteria are {', '.join(criteria)})")
    missing = [c for c in criteria if c not in seen]
    if missing:
        raise ValueError(f"criterion '{missing[0]}' is missing")
    dup = [c for c in set(seen) if seen.count(c) > 1]
    if dup:
        raise ValueError(f"criterion '{dup[0]}' appears twice")
    return out


def _results_text(scores: list[QuestionScore], questions: dict[str, Question]) -> str:
    lines = []
    for s in scores:
        q = questions.get(s.question_id)
        lines.append(f"Question ({s.section}): {q.text if q else s.question_id}")
        lines.append(f"  overall {s.overall:.1f}/5")
        for c in s.criteria:
            ev = "; ".join(f'"{e}"' for e in c.evidence[:2])
            lines.append(f"  {c.criterion}: {c.level}/5 - {c.rationale}"
                         + (f" Evidence: {ev}" if ev else ""))
        if s.missed and q:
            missed = [kp.point for kp in q.key_points if kp.id in s.missed]
            lines.append("  missed: " + "; ".join(missed))
    return "\n".join(lines)


__all__ = ["LLMBrain", "make_llm_brain"]
