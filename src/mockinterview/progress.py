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


def trends(recordings: Path, job: str | None = None
           ) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Per criterion and per section: (session id, mean level) in chronological order.

    ``job``: only sessions planned for that job (its file name, or a prefix of its SHA-256).
    """
    out: dict[str, dict[str, list[tuple[str, float]]]] = {"criterion": defaultdict(list),
                                                           "section": defaultdict(list)}
    for _folder, s in iter_sessions(recordings):
        if isinstance(s, SessionError) or not s.latest_scores:
            continue
        if job is not None and not for_job(s, job):
            continue
        by_c: dict[str, list[int]] = defaultdict(list)
        by_s: dict[str, list[float]] = defaultdict(list)
        for qs in s.latest_scores:
            by_s[qs.section].append(qs.overall)
            for c in qs.criteria:
                by_c[c.criterion].append(c.level)
        for a in s.annotations:  # reviewers' levels: a series of their own, beside the AI's
            for crit, lvl in a.levels.items():
                by_c[f"{crit} (reviewer)"].append(lvl)
        for k, v in by_c.items():
            out["criterion"][k].append((s.id, sum(v) / len(v)))
        for k, v in by_s.items():
            out["section"][k].append((s.id, sum(v) / len(v)))
    return out


def for_job(session, job: str) -> bool:
    """Whether a session was planned for ``job``: its file name (with or without extension) or
    at least 6 leading characters of its SHA-256."""
    t = session.tailoring
    if t is None:
        return False
    want = job.strip().lower()
    stem = Path(want).stem
    if t.job_name and t.job_name.lower() in (want, stem):
        return True
    return len(want) >= 6 and bool(t.job_sha256) and t.job_sha256.startswith(want)


def trend_chart(data: dict[str, dict[str, list[tuple[str, float]]]], path: Path) -> Path:
    """Draw the trend of every criterion and section across sessions as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, kind in zip(axes, ("criterion", "section"), strict=True):
        for name, points in sorted(data[kind].items()):
            ax.plot(range(1, len(points) + 1), [v for _, v in points], marker="o", label=name)
        ax.set_title(f"Mean level per {kind}")
        ax.set_xlabel("session")
        ax.set_ylabel("level (1-5)")
        ax.set_ylim(0.8, 5.2)
        ax.grid(alpha=0.3)
        if data[kind]:
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    import os

    os.replace(tmp, path)
    return path


def slope(points: list[tuple[str, float]]) -> float:
    """Least-squares slope of the levels over session number (levels per session)."""
    n = len(points)
    if n < 2:
        return 0.0
    xs = range(n)
    mx = (n - 1) / 2
    my = sum(v for _, v in points) / n
    num = sum((x - mx) * (v - my) for x, (_, v) in zip(xs, points, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den


def write_ics(path: Path, when: str, title: str, description: str) -> Path:
    """A one-event iCalendar file (RFC 5545) for the planned follow-up session."""
    from datetime import date, datetime

    from .store import atomic_write_text

    try:
        d = date.fromisoformat(when)
    except ValueError:
        raise SessionError(f"--schedule: {when!r} is not a date (use YYYY-MM-DD)") from None
    stamp = datetime.now().strftime("%Y%m%dT%H%M%SZ")

    def esc(s: str) -> str:
        return (s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
                .replace("\n", "\\n"))

    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mockinterview//follow-up//EN",
        "BEGIN:VEVENT", f"UID:{path.stem}-{d:%Y%m%d}@mockinterview", f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{d:%Y%m%d}", f"SUMMARY:{esc(title)}",
        f"DESCRIPTION:{esc(description)}", "END:VEVENT", "END:VCALENDAR", "",
    ]
    atomic_write_text(path, "\r\n".join(lines))
    return path
