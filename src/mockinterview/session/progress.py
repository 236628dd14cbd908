"""Progress across sessions: trends per criterion and section, and history for the planner."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from mockinterview.bank import Bank
from mockinterview.errors import SessionError
from mockinterview.session.plan import History
from mockinterview.store import (
    atomic_write_text,
    find_session,
    iter_sessions,
    load_session,
    open_index,
    sync_index,
)


def recent_history(recordings: Path, role: str, last_n: int = 3) -> History:
    """Questions asked in the last sessions, and the weakest topics and criteria overall."""
    h = History()
    if not recordings.is_dir():
        return h
    sync_index(recordings)  # folders copied in or edited by hand count too
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
        by_c: dict[str, list[float]] = defaultdict(list)
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


# one colour per series, colour-blind safe (Okabe-Ito), then repeated with dashes
_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
            "#000000"]


def _panel(series: dict[str, list[tuple[str, float]]], title: str, x0: int, width: int,
           height: int) -> list[str]:
    """One panel of the trend chart: mean level (1-5) per session, a polyline per series."""
    left, right, top, bottom = 40, 10, 28, 34
    pw, ph = width - left - right, height - top - bottom
    n = max((len(p) for p in series.values()), default=1)

    def x(i: int) -> float:
        return x0 + left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (5.0 - min(5.0, max(1.0, v))) / 4.0

    out = [f'<text x="{x0 + width / 2:.0f}" y="16" text-anchor="middle" '
           f'font-weight="bold">{escape(title)}</text>']
    for lvl in range(1, 6):
        out.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{y(lvl):.1f}" '
                   f'y2="{y(lvl):.1f}" stroke="#ddd"/>'
                   f'<text x="{x0 + left - 6}" y="{y(lvl) + 4:.1f}" text-anchor="end">{lvl}</text>')
    out.append(f'<text x="{x0 + left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle">'
               f'session (1-{n})</text>')
    for k, (name, points) in enumerate(sorted(series.items())):
        colour = _PALETTE[k % len(_PALETTE)]
        dash = ' stroke-dasharray="5 3"' if k >= len(_PALETTE) else ""
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} '
                   f'points="{coords}"><title>{escape(name)}</title></polyline>')
        for i, (sid, v) in enumerate(points):
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                       f'<title>{escape(name)}: {v:.2f} ({escape(sid)})</title></circle>')
    return out


def trend_chart(data: dict[str, dict[str, list[tuple[str, float]]]], path: Path) -> Path:
    """Draw the trend of every criterion and section across sessions as a self-contained SVG
    (the report's charts are SVG too: one way to draw, no plotting library to install)."""
    panel_w, panel_h = 480, 300
    names = sorted(set(data["criterion"]) | set(data["section"]))
    legend_h = 18 * ((len(names) + 2) // 3) + 10
    width, height = 2 * panel_w, panel_h + legend_h
    body = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
            'role="img"><title>Mean level per criterion and section across sessions</title>',
            f'<rect width="{width}" height="{height}" fill="white"/>']
    body += _panel(data["criterion"], "Mean level per criterion", 0, panel_w, panel_h)
    body += _panel(data["section"], "Mean level per section", panel_w, panel_w, panel_h)
    for kind in ("criterion", "section"):
        for k, name in enumerate(sorted(data[kind])):
            i = len([b for b in body if b.startswith("<g class=\"legend\"")])
            lx, ly = 20 + (i % 3) * (width // 3), panel_h + 14 + 18 * (i // 3)
            body.append(f'<g class="legend"><rect x="{lx}" y="{ly - 9}" width="12" height="10" '
                        f'fill="{_PALETTE[k % len(_PALETTE)]}"/><text x="{lx + 16}" y="{ly}">'
                        f'{escape(name)} ({kind})</text></g>')
    body.append("</svg>")
    atomic_write_text(path, "\n".join(body) + "\n")
    return path


def trend_summary(data: dict[str, dict[str, list[tuple[str, float]]]], last: int = 12
                  ) -> dict[str, dict[str, dict]]:
    """Per kind and series: how many sessions, the slope, and the newest ``last`` levels: what
    the progress tables print (small enough to keep in the index, unlike every point)."""
    return {kind: {name: {"n": len(points), "slope": slope(points),
                          "last": [v for _, v in points[-last:]]}
                   for name, points in series.items()}
            for kind, series in data.items()}


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
