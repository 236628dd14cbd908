"""The offline rubric engine: deterministic scoring from the bank's key points and rubrics.

How each criterion ``measure`` becomes a level 1-5:

- coverage: share of key points covered (an accepted phrasing, or a close paraphrase of the point);
- correctness: coverage, two levels down per stated misconception;
- depth: specifics (numbers, examples, reasons, trade-offs, first-hand experience, technical terms
  used in sentences), never more than one level above coverage, so a long answer that covers
  nothing stays shallow; behavioural depth also needs first-person ownership ("I", not "we");
- structure: STAR parts for behavioural answers (a hypothetical "I usually..." is no story); the
  past-present-motivation arc for introductions; signposting and coverage otherwise;
- communication: pace, fillers, long pauses and length, from the delivery metrics; fluent talk
  that reaches none of the question's points is rambling, not communication;
- tests / code_quality / explanation: the coding run's results and the spoken walk-through.

Answers that try to instruct the grader, or that are bare keyword lists, are capped at level 2:
the candidate's words are data, never instructions.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from mockinterview.interviewer.base import AnswerContext
from mockinterview.interviewer.claims import ClaimReport, read_claims
from mockinterview.interviewer.scoring import (
    SIGNPOSTS,
    DepthSignals,
    Tokens,
    content_stems,
    count_quantities,
    depth_signals,
    find_misconceptions,
    first_person_actions,
    injection_attempts,
    intro_arc,
    is_hypothetical,
    is_keyword_list,
    match_key_point,
    ownership,
    star_parts,
    strip_repetition_loops,
)
from mockinterview.schema import (
    CriterionScore,
    Delivery,
    Feedback,
    FollowUpPlan,
    Question,
    QuestionScore,
    RoleProfile,
)

OPENERS = {
    "friendly": "Thanks, that's helpful. ",
    "neutral": "",
    "demanding": "That leaves something out. ",
}


_PAST = re.compile(r"\b(?:was|were|had|\w{2,}ed|built|ran|wrote|made|took|got|began)\b", re.I)


# sections whose answers state facts: claims and wrong claims are read there; behavioural and
# introduction answers tell stories, and their scoring is left as it was
CLAIM_SECTIONS = ("technical", "coding", "system_design")
NAMED_CREDIT = 0.5  # a key point named, its claim not stated (0.25 and 0.5 tied on tune.jsonl)
# the same for a coding answer: a spoken walk-through names its steps ("a dict of counts, then a
# heap of size k") and rarely words their precise claims as the bank does; on the tuning-side
# coding answers lenient coverage separates grades 4 and 5 (0.67 / 0.89) better than stated
# claims do (0.59 / 0.73). At 0.75 (was 0.5): grade-5 answers given 5 on heldout-3 45 of 54 (43),
# heldout-4 34 of 41 (33), heldout-5 40 of 48 (37), honest Spearman 0.852 / 0.819 / 0.863 (0.827 /
# 0.810 / 0.829); tune, graded and heldout-2 unchanged; 1.0 scored the same as 0.75
NAMED_CREDIT_CODING = 0.75
# level 5 for content needs depth signals of at least this much (precise claims counting): on
# tune.jsonl 7 gave exact agreement 62% (0: 59%, 8: 61% with 6 grade-5 answers lost to 4); with
# the 0.85 / 0.65 levels, 6 gives grade-5 answers 5 in 72 of 75 (tune + heldout-2; 7: 69) and
# 40 of 54 on heldout-3 (38) at the same honest exact agreement over all tuning-side sets
TOP_SPECIFICS = 6.0
# depth may exceed coverage by a level only above a partial core: "one concrete example" around
# a half-stated answer is not depth (grade-3 answers got 4 on correctness 3, depth 4). At 4 (was
# 2): honest exact tune 85% (81%), heldout-3 70% (64%), heldout 85% (80%), graded 76% (75%),
# heldout-2 87% (89%); grade-5 answers given 5 unchanged
DEPTH_PLUS_FROM = 4
VAGUE_CAP = True  # vocabulary only: depth at most 2, communication at most 3


# a question asks for trade-offs when it says so; "how do X and Y differ" asks for a difference,
# which a precise answer states without a "however"
_ASKS_TRADEOFFS = re.compile(r"trade-?offs?|pros and cons|\bwhen (?:would|should|do) you\b|"
                             r"\bwhich (?:would|should) you\b|advantages|disadvantages|"
                             r"limitations?|downsides?|\bchoose\b|\bwhen to\b", re.IGNORECASE)


def asks_tradeoffs(q: Question) -> bool:
    """Whether the question asks for a comparison or trade-off: only then does level 5 need one
    (a precise, complete definition of self-attention is a 5 without a "however")."""
    return bool(_ASKS_TRADEOFFS.search(q.text))


def _claim_share(matches, claims: ClaimReport, credit: float) -> float:
    """Key points with claims count when a claim is stated (1) or only named (`credit`:
    NAMED_CREDIT, or NAMED_CREDIT_CODING for a coding answer); the others as before (covered 1,
    partly 0.5)."""
    by_id = {p.key_point: p for p in claims.points}
    total = 0.0
    for m in matches:
        pc = by_id.get(m.key_point)
        if pc is not None and pc.has_claims:
            total += 1.0 if pc.stated else credit if m.covered else 0.0
        else:
            total += 1.0 if m.covered else 0.5 if m.partial else 0.0
    return total / len(matches) if matches else 0.0


def _unverified(matches, claims: ClaimReport) -> list[str]:
    """Key points the answer names but whose claims it does not state: the offline engine cannot
    tell whether what it says about them is right, and says so instead of rewarding it."""
    by_id = {p.key_point: p for p in claims.points}
    return [m.key_point for m in matches if m.covered and by_id.get(m.key_point)
            and by_id[m.key_point].has_claims and not by_id[m.key_point].stated]


ON_TOPIC_STEMS = 3  # distinct words of the question and its key points a vague answer uses
ON_TOPIC_TOKENS = 60  # "vague but wordy": short vague answers stay at 1


def on_topic_vocabulary(text: str, q: Question, tokens: Tokens) -> int:
    """How many distinct words of the question, its key points and their phrasings the answer
    uses: a vague answer on the subject ("it propagates the error backwards and adjusts the
    weights") has some, a non-answer or a detour has none. The descriptors put "the key points'
    terms named without their claims" at level 2, not 1; the coach graded every vague but wordy
    answer of the calibration sets 2, and the engine gave 1 to 11 of them (graded, tune,
    heldout-2) before this floor."""
    if len(tokens) < ON_TOPIC_TOKENS:
        return 0
    hay = " ".join([q.text, *(kp.point for kp in q.key_points),
                    *(p for kp in q.key_points for p in kp.phrasings)])
    return len(set(content_stems(text)) & set(content_stems(hay)))


# share of key points (claims stated) for each coverage level, after the descriptors: 5 every
# key point's claim stated (4 of 5 stated and the fifth named: 0.9), 4 most (3 of 5 stated and
# one named: 0.7), 3 the core. Was 0.8 / 0.6: grade-3 answers stating 3 of 5 claims got 4 (12 of
# 27 on tune + heldout-2). Honest exact agreement at 0.85 / 0.65 (was): graded 80% (77%),
# heldout 80% (80%), tune 81% (79%), heldout-2 81% (74%); grade-5 answers given 5 unchanged.
# With the bank's claims about doubled (stop 23), 4 at 0.7 and 3 at 0.45 (was 0.65 / 0.4):
# honest exact graded 75% (77%), heldout 80% (75%), tune 80% (79%), heldout-2 89% (85%),
# heldout-3 66% (64%), grade-5 answers given 5 unchanged.
LEVEL_SHARES = ((5, 0.85), (4, 0.7), (3, 0.45), (2, 0.2))


def _level_from_share(share: float) -> int:
    for level, threshold in LEVEL_SHARES:
        if share >= threshold:
            return level
    return 1


class OfflineBrain:
    """The default brain: no network, same answer every time."""

    name = "offline"

    def __init__(self, style: str = "neutral"):
        self.style = style

    # ------------------------------------------------------------------ follow-ups

    def follow_up(self, ctx: AnswerContext) -> Iterator[str]:
        if len(ctx.follow_ups) >= min(1, ctx.max_follow_ups):
            return
        tokens = Tokens.of(ctx.transcript)
        if injection_attempts(ctx.transcript) or len(tokens) < 3:
            return
        covered = {kp.id for kp in ctx.question.key_points
                   if match_key_point(tokens, kp).covered}
        asked = set(ctx.follow_ups)
        for probe in ctx.question.probes:
            if probe.key_point not in covered and probe.text not in asked:
                yield (OPENERS.get(ctx.style, "") + probe.text).strip()
                return

    # ------------------------------------------------------------------ scoring

    def score(self, ctx: AnswerContext) -> QuestionScore:
        original = ctx.transcript
        cleaned, loops = [], []
        for a in ctx.answers:
            c, found = strip_repetition_loops(a or "")
            cleaned.append(c)
            loops += found
        ctx = dataclasses.replace(ctx, answers=cleaned)
        q, rubric = ctx.question, ctx.rubric
        text = ctx.transcript
        tokens = Tokens.of(text)
        matches = [match_key_point(tokens, kp) for kp in q.key_points]
        covered = [m for m in matches if m.covered]
        partial = [m for m in matches if m.partial]
        # a half-stated point counts half: coaches give credit for the right idea put loosely
        share = (len(covered) + 0.5 * len(partial)) / len(matches) if matches else 0.0
        claims = read_claims(text, q, ctx.pairs) if q.section in CLAIM_SECTIONS else ClaimReport()
        wrong = [w.quote for w in claims.wrong]
        if q.section not in CLAIM_SECTIONS:
            wrong += [w for w in find_misconceptions(tokens, q) if w not in wrong]
        if claims.with_claims:
            share = _claim_share(matches, claims, NAMED_CREDIT_CODING if q.section == "coding"
                                 else NAMED_CREDIT)
        injected = injection_attempts(text)
        keyword_list = is_keyword_list(tokens)
        notes: list[str] = []
        if loops:
            notes.append("ignored repeated words, a speech-recognition loop: "
                         + ", ".join(loops[:3]))
        if injected:
            notes.append("the answer tries to instruct the grader; capped at level 2")
        if keyword_list:
            notes.append("a list of terms without explanation; capped at level 2")
        if wrong:
            notes.append(f"{len(wrong)} stated misconception(s)")
            notes += [f"correction: {w.feedback()}" for w in claims.wrong[:3]]
        unverified = _unverified(matches, claims)
        if unverified:
            notes.append("not verified offline: names " + ", ".join(unverified[:4])
                         + " without stating the claim")

        cov_level = _level_from_share(share)
        if cov_level == 1 and not wrong and q.section in CLAIM_SECTIONS \
                and on_topic_vocabulary(text, q, tokens) >= ON_TOPIC_STEMS:
            cov_level = 2  # the subject's words without its claims: vague, not empty
        if len(tokens) < 12:
            cov_level = min(cov_level, 2)
        if claims.with_claims and not claims.stated:
            # the key points' words without their claims are vocabulary, not knowledge
            cov_level = min(cov_level, 2)
        evidence_cov = [m.evidence for m in covered if m.evidence][:3]
        vocabulary = list(ctx.section_terms or rubric.common_terms) + \
            [p for kp in q.key_points for p in kp.phrasings]
        signals = depth_signals(text, vocabulary, tokens)
        if claims.stated:
            # a precisely stated claim is a specific, as a number or an example is
            signals.reasons += len(claims.stated) // 2

        results: list[CriterionScore] = []
        for crit in rubric.criteria:
            level, why, evidence = self._criterion(crit.measure, ctx, tokens, matches, share,
                                                   cov_level, wrong, evidence_cov, signals,
                                                   claims)
            if (injected or keyword_list) and crit.measure not in ("tests", "code_quality"):
                level = min(level, 2)  # the code's own results do not depend on what was said
            if loops:  # quotes must be words the candidate's transcript really holds
                evidence = [e for e in evidence if e in original]
            results.append(CriterionScore(criterion=crit.id, level=level, rationale=why,
                                          evidence=evidence))
        weights = {c.id: c.weight for c in rubric.criteria}
        overall = sum(weights[r.criterion] * r.level for r in results) / sum(weights.values())
        if injected or keyword_list:
            overall = min(overall, 2.0)
        if claims.wrong:
            # a confidently wrong answer is wrong however fluent: nothing else lifts it above 2
            overall = min(overall, 2.0)
        return QuestionScore(
            question_id=q.id, section=q.section, criteria=results, overall=round(overall, 2),
            covered=[m.key_point for m in covered],
            missed=[m.key_point for m in matches if not m.covered],
            engine=self.name, notes=notes,
        )

    def _criterion(self, measure: str, ctx: AnswerContext, tokens: Tokens, matches, share: float,
                   cov_level: int, wrong: list[str], evidence_cov: list[str],
                   signals: DepthSignals | None = None, claims: ClaimReport | None = None
                   ) -> tuple[int, str, list[str]]:
        q = ctx.question
        n_cov = sum(1 for m in matches if m.covered)
        n_part = sum(1 for m in matches if m.partial)
        partly = f" (and {n_part} partly)" if n_part else ""
        # the top level asks for limits and trade-offs, not only a complete list of points
        reasons_limits = signals is None or signals.tradeoffs >= 1 or signals.reasons >= 2
        top_note = ""
        # a precise, complete answer (every key point's claim stated) to a question that asks for
        # no comparison is a 5 without a "however"; without claims to check, precision is unknown
        precise = bool(claims and claims.with_claims
                       and len(claims.stated) == len(claims.with_claims) and not claims.wrong)
        if cov_level == 5 and not reasons_limits and q.section in ("technical", "system_design") \
                and (asks_tradeoffs(q) or not precise):
            cov_level, top_note = 4, "; level 5 needs trade-offs or limits, not only the points"
        if cov_level == 5 and q.section in CLAIM_SECTIONS and signals is not None \
                and signals.total() < TOP_SPECIFICS:
            # "complete and precise, including subtleties": every point, and the specifics that
            # show it is understood (numbers, reasons, examples, precise claims)
            cov_level, top_note = 4, f"; level 5 needs the specifics of a complete answer " \
                                     f"({signals.total():.0f} of {TOP_SPECIFICS:.0f})"
        needs_motivation = any("motivat" in f"{kp.id} {kp.point}".lower() for kp in q.key_points)
        if q.section == "introduction" and needs_motivation and cov_level > 3 and \
                "motivation" not in intro_arc(ctx.transcript):
            # the descriptors put "a clear motivation for this role" at level 4: a list of jobs,
            # however complete, stays at 3
            cov_level, top_note = 3, "; no motivation for this role"
        # the key points' words, none of their claims: vocabulary, and depth or fluency around it
        # is padding (the issue's "vague but wordy" answers)
        vocabulary_only = VAGUE_CAP and q.section in CLAIM_SECTIONS and bool(
            claims and claims.with_claims and not claims.stated and cov_level == 2)
        if measure == "coverage":
            missed = [m.key_point for m in matches if not m.covered and not m.partial]
            why = f"covers {n_cov} of {len(matches)} key points{partly}"
            if claims and claims.with_claims:
                why = (f"states the claims of {len(claims.stated)} of {len(claims.with_claims)} "
                       f"key points, names {n_cov}")
            if missed:
                why += f"; missing: {', '.join(missed[:3])}"
            return cov_level, why + top_note, evidence_cov
        if measure == "correctness":
            level = max(1, cov_level - 2 * len(wrong))
            why = f"{n_cov} of {len(matches)} key points stated correctly{partly}"
            if claims and claims.with_claims:
                why = (f"states the claims of {len(claims.stated)} of {len(claims.with_claims)} "
                       f"key points")
                named = _unverified(matches, claims)
                if named:
                    why += f"; names {', '.join(named[:3])} without stating it (not verified " \
                           "offline)"
            if wrong:
                why += f"; misconception: {wrong[0][:80]}"
                return min(level, 2), why, wrong[:2]
            return level, why + top_note, evidence_cov
        if measure == "depth":
            sig = signals or depth_signals(ctx.transcript, list(ctx.section_terms), tokens)
            level, why, ev = self._depth(ctx.transcript, tokens, cov_level, evidence_cov, sig)
            if vocabulary_only and level > 2:
                # specifics around a vague or wrong core are padding, not depth
                level, why = cov_level, why + f"; capped by correctness (level {cov_level})"
            if wrong:
                level = min(level, 2)
                why += "; depth does not count beside a stated misconception"
            if q.section == "behavioral":
                mine, ours = ownership(ctx.transcript)
                if ours > mine or is_hypothetical(ctx.transcript):
                    level = min(level, 2)
                    why += f"; own contribution unclear ({mine} I/my, {ours} we/our)"
            return level, why, ev
        if measure == "structure":
            if q.section == "behavioral":
                return self._star(ctx.transcript, tokens)
            if q.section == "introduction":
                # a career story follows past -> present -> why this role; a story about one
                # project or strength follows STAR: credit whichever shape the answer has
                arc = self._arc(ctx.transcript, tokens)
                star = self._star(ctx.transcript, tokens)
                return star if star[0] > arc[0] else arc
            signposts = len(SIGNPOSTS.findall(ctx.transcript))
            # order helps only around substance; "driving the discussion" (5) needs a plan
            level = min(cov_level, max(1, cov_level - 1 + min(2, signposts)))
            if level == 5 and signposts < 3:
                level = 4
            if len(tokens) < 25:
                level = min(level, 2)
            return level, f"{signposts} signposts; {n_cov} key points in order", evidence_cov[:1]
        if measure == "communication":
            level, why, ev = self._communication(ctx.delivery, tokens)
            if matches and len(tokens) >= 25:
                if share == 0:
                    level = min(level, 2)
                    why += "; rambles without reaching the question's points"
                elif share < 0.25 and len(tokens) >= 80:
                    level, why = min(level, 3), why + "; long for what it says"
                elif level == 5 and cov_level < 4:
                    level, why = 4, why + "; fluent, but not yet crisp about the key points"
                if vocabulary_only and level > 3:
                    level, why = 3, why + "; clear words around a vague core"
            return level, why, ev
        if measure in ("tests", "code_quality"):
            # the coding module owns the thresholds (documented there) for both criteria
            from mockinterview.coding.challenge import level_for_quality, level_for_tests
            from mockinterview.schema import CodingRun

            if not ctx.coding or not ctx.coding.get("total"):
                return 1, "no code was run", []
            run = CodingRun.model_validate(ctx.coding)
            if measure == "tests":
                return level_for_tests(run), f"{run.passed} of {run.total} hidden test cases " \
                                             f"passed ({run.verdict})", []
            why = "; ".join(run.static_issues[:3]) or "no static issues"
            return level_for_quality(run), why, []
        if measure == "explanation":
            return max(1, min(5, cov_level)), f"explains {n_cov} of {len(matches)} points", \
                evidence_cov
        return cov_level, "", evidence_cov

    def _depth(self, text: str, tokens: Tokens, cov_level: int, evidence: list[str],
               sig: DepthSignals) -> tuple[int, str, list[str]]:
        total = sig.total()
        # the descriptors: none; generic; one concrete specific; several; expert-level
        level = next((lv for floor, lv in ((8, 5), (4, 4), (2, 3), (1, 2)) if total >= floor), 1)
        why = f"specifics: {sig.describe()}"
        # depth cannot outrun substance: specifics around nothing relevant are padding, so depth
        # stays at coverage's level (one above from DEPTH_PLUS_FROM), and at 1 when the answer
        # reaches almost none of it
        cap = cov_level + (1 if cov_level >= DEPTH_PLUS_FROM else 0) if cov_level >= 2 else 1
        if level > cap:
            level = cap
            why += f"; capped by coverage (level {cov_level})"
        if len(tokens) < 30:
            level = min(level, 2)
        return max(1, level), why, evidence[:2]

    def _star(self, text: str, tokens: Tokens) -> tuple[int, str, list[str]]:
        """STAR structure: which parts are there, whether the actions are the speaker's own and
        whether the result is measurable. A habitual "I usually..." answer tells no story."""
        parts = star_parts(text)
        acts = first_person_actions(text)
        if acts >= 2:
            parts.setdefault("action", "")
            # in a told story the opening sentence sets the scene, whatever words it uses
            if tokens.sentences and _PAST.search(text[slice(*tokens.sentences[0])]):
                parts.setdefault("situation", text[slice(*tokens.sentences[0])].strip())
        core = [p for p in ("situation", "task", "action", "result") if p in parts]
        level = 1 + len(core)
        measurable = count_quantities(text) > 0
        if "action" not in parts:
            level = min(level, 3)
        if level == 5 and not ("reflection" in parts and measurable and acts >= 3):
            level = 4
        hypothetical = is_hypothetical(text)
        if hypothetical:
            level = min(level, 2)
        if len(tokens) < 40:
            level = min(level, 2)
        missing = [p for p in ("situation", "task", "action", "result") if p not in parts]
        why = "STAR: " + (", ".join(p for p in parts) or "no parts") + " present"
        why += f"; {acts} first-person actions"
        if missing:
            why += f"; missing {', '.join(missing)}"
        if hypothetical:
            why += "; describes habits, not one situation"
        return max(1, level), why, [v for v in dict.fromkeys(parts.values()) if v][:3]

    def _arc(self, text: str, tokens: Tokens) -> tuple[int, str, list[str]]:
        """Introduction: past, present, an outcome and why this role, motivation last."""
        arc = intro_arc(text)
        level = 1 + len([p for p in ("past", "present", "motivation") if p in arc])
        if (level == 4 and "outcome" in arc
                and arc["motivation"] >= max(arc["past"], arc["present"])):
            level = 5
        if len(tokens) < 40:
            level = min(level, 2)
        order = sorted(arc, key=lambda part: arc[part])
        return max(1, level), "arc: " + (" → ".join(order) or "no parts"), []

    def _communication(self, deliveries: list[Delivery], tokens: Tokens
                       ) -> tuple[int, str, list[str]]:
        words = len(tokens)
        if words < 12:
            return 1, f"only {words} words", []
        level = 4
        reasons = []
        timed = [d for d in deliveries if d.wpm > 0]
        if timed:
            wpm = sum(d.wpm for d in timed) / len(timed)
            if wpm < 90 or wpm > 200:
                level -= 1
                reasons.append(f"pace {wpm:.0f} wpm")
            else:
                reasons.append(f"steady pace {wpm:.0f} wpm")
            pauses = sum(d.long_pauses for d in timed)
            if pauses >= 3:
                level -= 1
                reasons.append(f"{pauses} long pauses")
        fillers = sum(d.filler_count for d in deliveries)
        rate = 100 * fillers / max(1, words)
        if rate > 6:
            level -= 1
            reasons.append(f"{fillers} fillers")
        elif fillers == 0 and words >= 60:
            level += 1
            reasons.append("no fillers")
        if words < 30:
            level = min(level, 2)
        return max(1, min(5, level)), "; ".join(reasons) or f"{words} words", []

    # ------------------------------------------------------------------ feedback

    def feedback(self, scores: list[QuestionScore], questions: dict[str, Question],
                 style: str) -> Feedback:
        if not scores:
            return Feedback(summary="No answers were scored in this session.",
                            next_steps=["Run a full interview to get feedback."],
                            engine=self.name)
        by_crit: dict[str, list[int]] = defaultdict(list)
        for s in scores:
            for c in s.criteria:
                by_crit[c.criterion].append(c.level)
        avg = {k: sum(v) / len(v) for k, v in by_crit.items()}
        ranked = sorted(avg, key=lambda k: (-avg[k], k))
        best_q = max(scores, key=lambda s: s.overall)
        worst_q = min(scores, key=lambda s: s.overall)
        missed_topics: dict[str, int] = defaultdict(int)
        for s in scores:
            q = questions.get(s.question_id)
            if q and s.missed:
                for t in q.topics or [q.section]:
                    missed_topics[t] += len(s.missed)
        strengths = [f"{_nice(ranked[0])}: averaged {avg[ranked[0]]:.1f}/5 across your answers."]
        if len(ranked) > 1:
            strengths.append(f"{_nice(ranked[1])}: averaged {avg[ranked[1]]:.1f}/5.")
        bq = questions.get(best_q.question_id)
        if bq:
            strengths[-1] += f" Your best answer was on \"{_short(bq.text)}\"."
        weakest = sorted(avg, key=lambda k: (avg[k], k))
        improvements = [f"{_nice(weakest[0])}: averaged {avg[weakest[0]]:.1f}/5."]
        wq = questions.get(worst_q.question_id)
        if wq and worst_q.missed:
            kp = wq.key_point(worst_q.missed[0])
            improvements.append(f"On \"{_short(wq.text)}\" you did not cover: "
                                f"{kp.point if kp else worst_q.missed[0]}")
        elif len(weakest) > 1:
            improvements.append(f"{_nice(weakest[1])}: averaged {avg[weakest[1]]:.1f}/5.")
        # a wrong claim comes first: a candidate who believes it will say it again
        corrections = [(s, n.removeprefix("correction: ")) for s in scores for n in s.notes
                       if n.startswith("correction: ")]
        if corrections:
            s, text = corrections[0]
            q = questions.get(s.question_id)
            where = f"On \"{_short(q.text)}\" " if q else ""
            improvements.insert(0, f"{where}{text[0].upper()}{text[1:]}")
        topics = sorted(missed_topics, key=lambda t: (-missed_topics[t], t))[:3]
        focus = topics or [weakest[0]]
        next_step = (f"Practise two {focus[0]} questions out loud this week, covering each key "
                     "point with an example, and record yourself.")
        asked = {s.question_id for s in scores}
        practice = [q.id for q in questions.values()
                    if q.id not in asked and set(q.topics) & set(focus)][:4]
        overall = sum(s.overall for s in scores) / len(scores)
        tone = {"friendly": "Nice work today. ", "demanding": "", "neutral": ""}.get(style, "")
        summary = (f"{tone}Overall you averaged {overall:.1f} out of 5 over {len(scores)} "
                   f"answers.")
        return Feedback(
            summary=summary, strengths=strengths, improvements=improvements,
            next_steps=[next_step],
            follow_up=FollowUpPlan(focus=focus, questions=practice,
                                   suggested_date=(date.today() + timedelta(days=3)).isoformat()),
            engine=self.name,
        )

    # ------------------------------------------------------------------ candidate's questions

    def answer_candidate(self, text: str, profile: RoleProfile, style: str) -> Iterator[str]:
        asked = set(content_stems(text))
        best, best_score = None, 0.0
        for ans in profile.answers:
            score = 0.0
            for topic in ans.topics:
                stems = content_stems(topic) or [topic.lower()]
                hit = sum(1 for s in stems if s in asked) / len(stems)
                score = max(score, hit)
            if score > best_score:
                best, best_score = ans, score
        if best is not None and best_score >= 0.5:
            yield from _sentences(best.answer)
        else:
            yield from _sentences(profile.fallback)


def _sentences(text: str) -> Iterator[str]:
    for s in re.split(r"(?<=[.!?])\s+", text.strip()):
        if s:
            yield s


def _nice(criterion_id: str) -> str:
    return criterion_id.replace("_", " ").replace("-", " ").capitalize()


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"
