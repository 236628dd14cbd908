"""Interview plans: which sections, how long each, which questions.

Budgets follow the shape of a real interview (a short introduction, the bulk on technical questions
and coding, shorter behavioural and design parts, a few minutes for the candidate's questions and
the feedback). Question picks are deterministic for a given seed, avoid questions asked recently,
and lean toward the candidate's weakest criteria and topics when a history is given.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from mockinterview.bank import Bank
from mockinterview.errors import MockInterviewError
from mockinterview.schema import SECTIONS, Level, Plan, PlannedSection, Role, Section, Style

# share of the interview per section (sums to 1)
SHARES = {
    "introduction": 0.09,
    "technical": 0.30,
    "coding": 0.22,
    "behavioral": 0.13,
    "system_design": 0.17,
    "candidate_questions": 0.05,
    "feedback": 0.04,
}
# sections without bank questions
NO_QUESTIONS = {"candidate_questions", "feedback"}
# seconds the interviewer needs per question beyond the answer (asking, follow-up, transitions)
OVERHEAD_S = 25.0


@dataclass
class History:
    """What earlier sessions say: recently asked ids and weak topics/criteria (weakest first)."""

    recent: set[str] = field(default_factory=set)
    weak_topics: list[str] = field(default_factory=list)
    weak_criteria: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def make_plan(bank: Bank, role: str, level: str, minutes: int,
              sections: Iterable[str] | None = None, focus: str | None = None,
              style: str = "neutral", seed: int | None = None,
              history: History | None = None,
              per_section: dict[str, int] | None = None) -> Plan:
    chosen = [s for s in SECTIONS if sections is None or s in set(sections)]
    unknown = set(sections or []) - set(SECTIONS)
    if unknown:
        raise MockInterviewError(f"--sections: unknown section {sorted(unknown)[0]!r} "
                                 f"(choose from {', '.join(SECTIONS)})")
    if not chosen:
        raise MockInterviewError("--sections: no sections chosen")
    total_share = sum(SHARES[s] for s in chosen)
    rng = random.Random(seed)
    history = history or History()
    reasons = list(history.reasons)
    planned = []
    for s in chosen:
        budget = minutes * 60 * SHARES[s] / total_share
        ids: list[str] = []
        if s not in NO_QUESTIONS:
            pool = bank.select(section=s, role=role, level=level)
            if not pool:
                pool = bank.select(section=s, role=role) or bank.select(section=s)
            if not pool:
                continue
            want = per_section.get(s) if per_section else None
            ids = _pick(pool, budget, rng, history, focus, want)
        planned.append(PlannedSection(section=cast(Section, s), budget_s=round(budget, 1),
                                      question_ids=ids))
    if focus:
        reasons.append(f"focus on {focus!r} requested")
    return Plan(role=cast(Role, role), level=cast(Level, level), minutes=minutes,
                style=cast(Style, style), focus=focus, sections=planned, reasons=reasons)


def _pick(pool, budget_s: float, rng: random.Random, history: History, focus: str | None,
          want: int | None):
    def weight(q) -> float:
        w = 1.0
        if q.id in history.recent:
            w *= 0.05
        if focus and any(focus.lower() in t.lower() for t in q.topics + [q.text]):
            w *= 8.0
        for rank, topic in enumerate(history.weak_topics[:3]):
            if topic in q.topics:
                w *= 4.0 - rank
        return w

    # Weighted order with a seeded jitter: focus and weak topics come first, recent questions
    # last, and ties vary from one interview to the next.
    order = sorted(pool, key=lambda q: -weight(q) * rng.uniform(0.5, 1.0))
    picked: list[str] = []
    used = 0.0
    for q in order:
        cost = q.time_limit_s + OVERHEAD_S
        if want is not None:
            if len(picked) >= want:
                break
        elif picked and used + cost > budget_s:
            break
        picked.append(q.id)
        used += cost
        if q.section == "coding" and want is None:
            break  # one coding challenge per interview
    return picked
