"""Progress across sessions: trends per criterion and section, and history for the planner."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .bank import Bank
from .errors import SessionError
from .plan import History
from .store import find_session, iter_sessions, load_session, open_index


def recent_history(recordings: Path, role: str, last_n: int = 3) -> History:
    """Questions asked in the last sessions, and the weakest topics and criteria overall."""
    h = History()
    if not recordings.is_dir():
        return h
    with open_index(recordings) as db:
        rows = db.execute("SELECT id FROM sessions WHERE role=? ORDER BY created DESC LIMIT ?",
                          (role, last_n)).fetchall()
        ids = [r[0] for r in rows]
        if not ids:
            return h
        marks = ",".join("?" * len(ids))
        h.recent = {r[0] for r in db.execute(
            f"SELECT question_id FROM asked WHERE session_id IN ({marks})", ids)}
        topics = db.execute(
            f"SELECT topic, AVG(overall) a, COUNT(*) FROM topics WHERE session_id IN ({marks}) "
            "GROUP BY topic ORDER BY a ASC", ids).fetchall()
        crits = db.execute(
            f"SELECT criterion, AVG(level) a FROM scores WHERE session_id IN ({marks}) "
            "AND source='ai' GROUP BY criterion ORDER BY a ASC", ids).fetchall()
    h.weak_topics = [t for t, a, _n in topics if a < 3.5][:3]
    h.weak_criteria = [c for c, a in crits if a < 3.5][:3]
    if h.recent:
        h.reasons.append(f"avoiding {len(h.recent)} questions asked in your last "
                         f"{len(ids)} session(s)")
    if h.weak_topics:
        detail = ", ".join(f"{t} ({a:.1f}/5)" for t, a, _n in topics[:3] if t in h.weak_topics)
        h.reasons.append(f"leaning toward your weakest topics: {detail}")
    if h.weak_criteria:
        h.reasons.append("weakest criteria so far: " + ", ".join(h.weak_criteria))
    return h


def history_for_follow_up(recordings: Path, ref: str, bank: Bank) -> History:
    """The follow-up plan of a session: its focus topics first, its questions avoided."""
    folder = find_session(recordings, ref)
    s = load_session(folder)
    h = recent_history(recordings, s.plan.role)
    h.recent |= {t.question_id for t in s.turns if t.question_id}
    if s.feedback and s.feedback.follow_up:
        focus = [f for f in s.feedback.follow_up.focus if f]
        h.weak_topics = focus + [t for t in h.weak_topics if t not in focus]
        h.reasons.insert(0, f"follow-up of {s.id}: focus on {', '.join(focus) or 'weak areas'}")
    return h


def trends(recordings: Path) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Per criterion and per section: (session id, mean level) in chronological order."""
    out: dict[str, dict[str, list[tuple[str, float]]]] = {"criterion": defaultdict(list),
                                                           "section": defaultdict(list)}
    for _folder, s in iter_sessions(recordings):
        if isinstance(s, SessionError) or not s.latest_scores:
            continue
        by_c: dict[str, list[int]] = defaultdict(list)
        by_s: dict[str, list[float]] = defaultdict(list)
        for qs in s.latest_scores:
            by_s[qs.section].append(qs.overall)
            for c in qs.criteria:
                by_c[c.criterion].append(c.level)
        for k, v in by_c.items():
            out["criterion"][k].append((s.id, sum(v) / len(v)))
        for k, v in by_s.items():
            out["section"][k].append((s.id, sum(v) / len(v)))
    return out
