"""The session report: a self-contained ``report.html`` and a plain ``feedback.md``.

Why self-contained: reviewers open the file straight from the recordings folder, with no server and
no network. CSS and scripts are inline, audio is referenced relative to the session folder
(``audio/...``), charts are SVG generated here in Python.

Why so careful with escaping: every string in a session (transcripts, model rationales, evidence
quotes, reviewer notes, question text, event payloads) may come from a person or a model and must
render as text. Jinja2 autoescaping is on; the only strings marked safe are the SVG charts built
here from numbers and escaped labels, the package's own CSS and JS, and the JSON block, escaped so
that ``<``, ``>`` and ``&`` can never close its script element. A strict Content-Security-Policy
(no external sources; the inline script and style allowed only by their SHA-256 hashes) is a
second wall should an escaping bug ever slip through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from mockinterview.errors import MockInterviewError
from mockinterview.schema import (
    Criterion,
    Event,
    QuestionScore,
    SectionRubric,
    Session,
    Transcript,
    Turn,
)
from mockinterview.store import (  # atomic, validated, secrets scrubbed
    atomic_write_text,
    load_session,
)

REPORT_FILE = "report.html"
FEEDBACK_FILE = "feedback.md"
PDF_FILE = "report.pdf"

# Event kinds that mean something went wrong with a model or a device and the session went on
# anyway (the flow records them; the report lists them so reviewers know what to trust).
FAULT_PATTERN = re.compile(r"fault|fallback|error|retry|timeout|fail|overflow|degrad", re.I)
# Pace band drawn behind the pace chart: a comfortable speaking rate for interviews.
COMFORT_WPM = (110.0, 160.0)


# ----------------------------------------------------------------------------- small helpers


def _num(x: float | None, digits: int = 1) -> str:
    if x is None or not math.isfinite(float(x)):
        return "-"
    return f"{float(x):.{digits}f}"


def _fmt_s(seconds: float | None) -> str:
    """Seconds as m:ss (budgets and actual times read better that way)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


_SUBTOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _subtokens(text: str) -> list[str]:
    """Letters and digits runs (apostrophes kept inside words), lower case. Hyphens and other
    punctuation separate: Whisper splits "two-stage" into the words "two" and "-stage", while a
    quote keeps "two-stage" whole; both become ["two", "stage"]."""
    return _SUBTOKEN.findall(text.lower())


def safe_media_path(session_dir: Path, rel: str | None) -> str | None:
    """A URL (relative, percent-encoded) for a file inside the session folder, or None.

    Paths come from session.json, which a person may edit: anything absolute, with a scheme, with
    ``..`` or resolving (through symlinks) outside the folder is refused rather than linked.
    """
    if not rel or "\\" in rel or "\x00" in rel or ":" in rel or rel.startswith("/"):
        return None
    parts = Path(rel).parts
    if any(p in ("..", ".") for p in parts):
        return None
    root = Path(session_dir).resolve()
    try:
        target = (root / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return "/".join(quote(p) for p in parts)


def wav_duration(path: Path) -> float | None:
    try:
        import soundfile as sf

        return float(sf.info(str(path)).duration)
    except Exception:
        return None


def _json_for_script(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no character can end the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(text)


def section_criteria(rubrics_dir: Path | None = None) -> dict[str, dict[str, Criterion]]:
    """Criterion names and level descriptors per section, read from ``sections.yaml`` only.

    Why not the whole bank: loading and checking every question takes seconds, and the report
    only needs the descriptors to explain what an AI level or a reviewer level means. Best
    effort: without a readable rubric file the report shows criterion ids and levels alone.
    """
    try:
        import yaml

        from mockinterview.bank import default_rubrics_dir

        path = Path(rubrics_dir or default_rubrics_dir()) / "sections.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out: dict[str, dict[str, Criterion]] = {}
        for item in data.get("sections", []):
            rub = SectionRubric.model_validate(item)
            out[rub.section] = {c.id: c for c in rub.criteria}
        return out
    except Exception:  # a missing or broken rubric file must not stop the report
        return {}


# ----------------------------------------------------------------------------- SVG charts


def pace_svg(pace: list[float], width: int = 260, height: int = 64) -> Markup:
    """Speaking pace (words per minute per window) over the answer, as a small line chart."""
    vals = [float(v) for v in pace if v is not None and math.isfinite(float(v))]
    if len(vals) < 2:
        return Markup("")
    top = max(200.0, max(vals) * 1.1)
    pad_l, pad_b = 28, 12
    w, h = width - pad_l - 4, height - pad_b - 4

    def y(v: float) -> float:
        return 4 + h - (min(v, top) / top) * h

    step = w / (len(vals) - 1)
    pts = " ".join(f"{pad_l + i * step:.1f},{y(v):.1f}" for i, v in enumerate(vals))
    lo, hi = COMFORT_WPM
    parts = [
        f'<svg class="chart pace" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>Speaking pace over the answer, words per minute (min {min(vals):.0f}, "
        f"max {max(vals):.0f})</title>",
        f'<rect x="{pad_l}" y="{y(hi):.1f}" width="{w}" height="{y(lo) - y(hi):.1f}" '
        f'fill="#e3f4e6"/>',
        f'<line x1="{pad_l}" y1="{4 + h}" x2="{pad_l + w}" y2="{4 + h}" stroke="#999"/>',
        f'<text x="2" y="{y(top) + 8:.1f}" font-size="9" fill="#666">{top:.0f}</text>',
        f'<text x="2" y="{4 + h:.1f}" font-size="9" fill="#666">0</text>',
        f'<text x="{pad_l}" y="{height - 1}" font-size="9" fill="#666">start</text>',
        f'<text x="{pad_l + w - 18}" y="{height - 1}" font-size="9" fill="#666">end</text>',
        f'<polyline points="{pts}" fill="none" stroke="#2b6cb0" stroke-width="1.5"/>',
        "</svg>",
    ]
    return Markup("".join(parts))


def bars_svg(rows: list[tuple[str, float]], scale_max: float = 5.0, width: int = 320,
             title: str = "", unit: str = "") -> Markup:
    """Horizontal bars with escaped labels (scores per section, time per section)."""
    rows = [(label, v) for label, v in rows if v is not None and math.isfinite(v)]
    if not rows:
        return Markup("")
    row_h, label_w = 18, 130
    height = row_h * len(rows) + 6
    bar_w = width - label_w - 44
    top = max(scale_max, max(v for _, v in rows)) or 1.0
    out = [f'<svg class="chart bars" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for i, (label, v) in enumerate(rows):
        yy = 3 + i * row_h
        bw = max(1.0, bar_w * v / top)
        out.append(f'<text x="0" y="{yy + 12}" font-size="11" fill="#333">{escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{yy + 2}" width="{bw:.1f}" height="{row_h - 6}" '
                   f'fill="#4a7fc1"/>')
        out.append(f'<text x="{label_w + bw + 4:.1f}" y="{yy + 12}" font-size="11" '
                   f'fill="#333">{v:.1f}{escape(unit)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def timing_svg(rows: list[tuple[str, float, float | None]], width: int = 360) -> Markup:
    """Planned budget (grey) against the time actually spent (blue), per section, in seconds."""
    rows = [(label, b, a) for label, b, a in rows if math.isfinite(b)]
    if not rows:
        return Markup("")
    row_h, label_w = 22, 120
    height = row_h * len(rows) + 6
    bar_w = width - label_w - 78
    top = max([b for _, b, _ in rows] + [a or 0 for _, _, a in rows]) or 1.0
    out = [f'<svg class="chart timing" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
           "<title>Planned budget (grey) and actual time (blue) per section</title>"]
    for i, (label, budget, actual) in enumerate(rows):
        yy = 3 + i * row_h
        out.append(f'<text x="0" y="{yy + 13}" font-size="11" fill="#333">{escape(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{yy + 2}" width="{max(1.0, bar_w * budget / top):.1f}" '
                   f'height="7" fill="#bbb"/>')
        if actual is not None:
            out.append(f'<rect x="{label_w}" y="{yy + 10}" '
                       f'width="{max(1.0, bar_w * actual / top):.1f}" height="7" fill="#4a7fc1"/>')
        out.append(f'<text x="{width - 72}" y="{yy + 13}" font-size="10" fill="#333">'
                   f'{escape(_fmt_s(actual))}/{escape(_fmt_s(budget))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


# ----------------------------------------------------------------------------- view model


@dataclass
class WordView:
    text: str
    start: float | None
    end: float | None
    index: int
    evidence: list[str] = field(default_factory=list)  # criterion ids quoting this word
    correction: str | None = None  # "heard: <raw>" or "corrected to: <new>", for the tooltip


@dataclass
class TurnView:
    turn: Turn
    prompt_src: str | None
    prompt_duration: float | None
    answer_src: str | None
    answer_duration: float | None
    words: list[WordView]
    has_timings: bool
    pace_chart: Markup
    annotations: list[dict[str, Any]]
    reply: str | None = None  # the interviewer's answer to a candidate's question
    reply_src: str | None = None


@dataclass
class QuestionView:
    question_id: str | None
    turns: list[TurnView]
    score: QuestionScore | None
    earlier: list[tuple[str, float]]  # (engine of an earlier run, overall) for the same question
    reviewer_levels: dict[str, list[str]]  # criterion -> ["4 by alice", ...]
    evidence_found: dict[tuple[str, int], tuple[int, float | None] | None]
    criteria: list[str]


def _flat_words(t: Transcript) -> list[WordView]:
    words: list[WordView] = []
    for seg in t.segments:
        if seg.words:
            for w in seg.words:
                words.append(WordView(w.word.strip(), w.start, w.end, len(words)))
        elif seg.text.strip():
            for tok in seg.text.split():
                words.append(WordView(tok, None, None, len(words)))
    if not words and t.text.strip():
        for tok in t.text.split():
            words.append(WordView(tok, None, None, len(words)))
    return words


def _apply_corrections(words: list[WordView], t: Transcript) -> None:
    """Mark the words a correction touched. A correction's ``position`` counts raw words, and
    earlier multi-word corrections shift later words, so the text is looked for near it: the
    corrected words (when the segments hold corrected words) or else the original ones."""
    for c in t.corrections:
        for target, note in ((c.corrected, f"heard: {c.original}"),
                             (c.original, f"corrected to: {c.corrected}")):
            span = _find_quote(words, target, near=c.position)
            if span is not None:
                for w in words[span[0]:span[1]]:
                    w.correction = note
                break


def _find_quote(words: list[WordView], quote_text: str,
                near: int | None = None) -> tuple[int, int] | None:
    """The words (first index, last index + 1) where ``quote_text`` occurs in the answer,
    compared token by token, ignoring case and punctuation: the first occurrence, or with
    ``near`` the occurrence whose first word is closest to that index."""
    q = _subtokens(quote_text)
    if not q:
        return None
    flat: list[tuple[str, int]] = [(tok, i) for i, w in enumerate(words)
                                   for tok in _subtokens(w.text)]
    toks = [t for t, _ in flat]
    best: tuple[int, int] | None = None
    for k in range(len(toks) - len(q) + 1):
        if toks[k:k + len(q)] == q:
            span = (flat[k][1], flat[k + len(q) - 1][1] + 1)
            if near is None:
                return span
            if best is None or abs(span[0] - near) < abs(best[0] - near):
                best = span
    return best


def _turn_time(turns: list[TurnView], i: int) -> float:
    """Seconds a turn took: until the next turn started, else its audio lengths."""
    t = turns[i].turn
    if i + 1 < len(turns):
        delta = (turns[i + 1].turn.started - t.started).total_seconds()
        if delta > 0:
            return delta
    own = (turns[i].prompt_duration or 0.0)
    if t.delivery and t.delivery.duration_s:
        own += t.delivery.duration_s
    elif turns[i].answer_duration:
        own += turns[i].answer_duration or 0.0
    elif t.transcript:
        own += t.transcript.duration_s
    return own


@dataclass
class ReportView:
    session: Session
    folder: str
    sections: list[dict[str, Any]]
    timing_chart: Markup
    scores_chart: Markup
    faults: list[Event]
    events: list[Event]
    overall: float | None
    data: Markup
    orphan_annotations: list[dict[str, Any]]
    criteria: dict[str, dict[str, Criterion]]  # section -> criterion id -> name, descriptors


def _annotation_view(a, criteria_known: bool = True) -> dict[str, Any]:
    return {"reviewer": a.reviewer, "created": a.created.strftime("%Y-%m-%d %H:%M UTC"),
            "turn": a.turn, "at_s": a.at_s, "comment": a.comment,
            "levels": sorted(a.levels.items()), "question_id": a.question_id}


def build_view(session: Session, session_dir: Path,
               criteria: dict[str, dict[str, Criterion]] | None = None) -> ReportView:
    """Everything the template shows, computed once (the template only lays it out)."""
    session_dir = Path(session_dir)
    latest = {s.question_id: s for s in session.latest_scores}
    earlier: dict[str, list[tuple[str, float]]] = {}
    for run in session.scoring_runs[:-1]:
        for s in run.scores:
            earlier.setdefault(s.question_id, []).append((run.engine, s.overall))

    tviews: list[TurnView] = []
    for t in session.turns:
        p_src = safe_media_path(session_dir, t.prompt_audio)
        a_src = safe_media_path(session_dir, t.answer_audio)
        words = _flat_words(t.transcript) if t.transcript else []
        if t.transcript:
            _apply_corrections(words, t.transcript)
        tviews.append(TurnView(
            turn=t,
            prompt_src=p_src,
            prompt_duration=(wav_duration(session_dir / t.prompt_audio)
                             if p_src and t.prompt_audio else None),
            answer_src=a_src,
            answer_duration=(wav_duration(session_dir / t.answer_audio)
                             if a_src and t.answer_audio else None),
            words=words,
            has_timings=any(w.start is not None for w in words),
            pace_chart=pace_svg(t.delivery.pace) if t.delivery else Markup(""),
            annotations=[_annotation_view(a) for a in session.annotations if a.turn == t.index],
            reply=t.capture.get("reply") if isinstance(t.capture.get("reply"), str) else None,
            reply_src=safe_media_path(session_dir, t.capture.get("reply_audio"))
            if isinstance(t.capture.get("reply_audio"), str) else None,
        ))
    turn_indices = {t.index for t in session.turns}
    orphan = [_annotation_view(a) for a in session.annotations
              if a.turn is None or a.turn not in turn_indices]

    # Time per section: the flow's own clock (section_end events, summed over resumes) when it
    # recorded one, else an estimate from the turns' start times and audio lengths.
    actual: dict[str, float] = {}
    for i, tv in enumerate(tviews):
        actual[tv.turn.section] = actual.get(tv.turn.section, 0.0) + _turn_time(tviews, i)
    measured: dict[str, float] = {}
    audio_sum: dict[str, float] = {}
    for e in session.events:
        used = e.data.get("used_s")
        if e.kind == "section_end" and isinstance(used, int | float) and math.isfinite(used):
            sec = str(e.data.get("section", ""))
            measured[sec] = measured.get(sec, 0.0) + float(used)
    actual.update(measured)
    # Never less than the audio actually played and recorded in the section: a demo's synthetic
    # candidate answers faster than real time, and its clock would show seconds for minutes.
    for tv in tviews:
        heard = (tv.prompt_duration or 0.0) + (tv.answer_duration or 0.0)
        audio_sum[tv.turn.section] = audio_sum.get(tv.turn.section, 0.0) + heard
    for sec, heard in audio_sum.items():
        actual[sec] = max(actual.get(sec, 0.0), heard)

    # Sections in plan order, then any section that only appears in the turns.
    order = [ps.section for ps in session.plan.sections]
    order += [tv.turn.section for tv in tviews if tv.turn.section not in order]
    order = list(dict.fromkeys(order))
    budgets = {ps.section: ps for ps in session.plan.sections}

    sections: list[dict[str, Any]] = []
    for sec in order:
        groups: list[QuestionView] = []
        for tv in tviews:
            if tv.turn.section != sec:
                continue
            qid = tv.turn.question_id
            if groups and qid is not None and groups[-1].question_id == qid:
                groups[-1].turns.append(tv)
                continue
            score = latest.get(qid) if qid else None
            groups.append(QuestionView(qid, [tv], score, earlier.get(qid or "", []), {}, {},
                                       [c.criterion for c in score.criteria] if score else []))
        for g in groups:
            idx = {tv.turn.index for tv in g.turns}
            for a in session.annotations:
                if a.turn in idx or (a.turn is None and g.question_id
                                     and a.question_id == g.question_id):
                    for crit, lvl in a.levels.items():
                        g.reviewer_levels.setdefault(crit, []).append(f"{lvl} by {a.reviewer}")
                        if crit not in g.criteria:
                            g.criteria.append(crit)
            if g.score:
                for c in g.score.criteria:
                    for k, q in enumerate(c.evidence):
                        found = None
                        for tv in g.turns:
                            span = _find_quote(tv.words, q)
                            if span is not None:
                                for w in tv.words[span[0]:span[1]]:
                                    if c.criterion not in w.evidence:
                                        w.evidence.append(c.criterion)
                                found = (tv.turn.index, tv.words[span[0]].start)
                                break
                        g.evidence_found[(c.criterion, k)] = found
        ps = budgets.get(sec)
        scores = [g.score.overall for g in groups if g.score]
        sections.append({
            "section": sec,
            "title": sec.replace("_", " ").capitalize(),
            "budget_s": ps.budget_s if ps else None,
            "actual_s": actual.get(sec),
            "planned_questions": ps.question_ids if ps else [],
            "groups": groups,
            "mean": sum(scores) / len(scores) if scores else None,
        })

    timing = timing_svg([(s["title"], s["budget_s"], s["actual_s"])
                         for s in sections if s["budget_s"] is not None])
    scores_chart = bars_svg([(s["title"], s["mean"]) for s in sections if s["mean"] is not None],
                            title="Mean overall score per section (1-5)")
    all_scores = session.latest_scores
    overall = sum(s.overall for s in all_scores) / len(all_scores) if all_scores else None
    data = {"folder": session_dir.name, "session_id": session.id}
    return ReportView(
        session=session, folder=session_dir.name, sections=sections, timing_chart=timing,
        scores_chart=scores_chart,
        faults=[e for e in session.events if FAULT_PATTERN.search(e.kind)],
        events=list(session.events), overall=overall, data=_json_for_script(data),
        orphan_annotations=orphan,
        criteria=section_criteria() if criteria is None else criteria,
    )


# ----------------------------------------------------------------------------- HTML


def _env() -> Environment:
    env = Environment(loader=PackageLoader("mockinterview", "review/templates"),
                      autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["mmss"] = _fmt_s
    env.filters["tojson_text"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1,
                                                      default=str, sort_keys=True)
    return env


def _asset(env: Environment, name: str) -> tuple[Markup, str]:
    """A static CSS/JS file shipped beside the template, and its CSP hash source."""
    assert env.loader is not None  # _env() always sets the package loader
    text = env.loader.get_source(env, name)[0]
    if "</" in text:  # would end the inline element early
        raise ValueError(f"{name}: must not contain '</'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"


def content_security_policy(script_hash: str, style_hash: str) -> str:
    """Only the report's own inline script and style run, by hash: a hash (unlike a nonce
    written into a static file) cannot be reused by anything injected into the page."""
    return ("default-src 'none'; "
            f"script-src {script_hash}; style-src {style_hash}; "
            "img-src data:; media-src 'self'; connect-src 'self'; form-action 'none'; "
            "object-src 'none'; base-uri 'none'; frame-src 'none'")


def render_report(session: Session, session_dir: Path) -> str:
    """The report's HTML text."""
    env = _env()
    css, css_hash = _asset(env, "report.css")
    js, js_hash = _asset(env, "report.js")
    view = build_view(session, session_dir)
    return env.get_template("report.html.j2").render(
        v=view, s=session, css=css, js=js, csp=content_security_policy(js_hash, css_hash))


def write_report(session_dir: Path, session: Session | None = None) -> Path:
    """Render ``report.html`` into the session folder (atomically) and return its path."""
    session_dir = Path(session_dir)
    session = session or load_session(session_dir)  # callers holding it skip a re-read
    out = session_dir / REPORT_FILE
    atomic_write_text(out, render_report(session, session_dir))
    return out


# ----------------------------------------------------------------------------- feedback.md

_MD_SPECIAL = re.compile(r"([\\`\[\]<>&])")


def md(text: str) -> str:
    """Text made inert for Markdown renderers (no HTML, no links, no emphasis), one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_feedback_md(session: Session, session_dir: Path) -> str:
    view = build_view(session, session_dir)
    p = session.plan
    out: list[str] = [f"# Mock interview {md(session.id)}", ""]
    out.append(f"- Role: {md(p.role)} ({md(p.level)}), {p.minutes} minutes, style {md(p.style)}"
               + (f", focus {md(p.focus)}" if p.focus else ""))
    out.append(f"- Date: {session.created:%Y-%m-%d %H:%M} UTC; status: {md(session.status)}; "
               f"engine: {md(session.engine)}")
    if session.voice:
        v = session.voice
        out.append(f"- Interviewer voice: {md(str(v.get('name')))} ({md(str(v.get('model')))}, "
                   f"{v.get('sample_rate')} Hz)")
    if view.overall is not None:
        out.append(f"- Overall: {view.overall:.1f} / 5")
    out.append("")
    if session.tailoring is not None:  # issue 19: which job terms each question covers
        out += ["## Why this plan", ""] + [f"- {md(r)}" for r in p.reasons] + [""]
    fb = session.feedback
    if fb:
        out += ["## Feedback", ""]
        if fb.summary:
            out += [md(fb.summary), ""]
        for title, items in (("Strengths", fb.strengths), ("To improve", fb.improvements),
                             ("Next steps", fb.next_steps)):
            if items:
                out += [f"### {title}", ""] + [f"- {md(x)}" for x in items] + [""]
        if fb.follow_up:
            fu = fb.follow_up
            out += ["### Follow-up plan", ""]
            out += [f"- Focus: {md(x)}" for x in fu.focus]
            out += [f"- Practise: {md(x)}" for x in fu.questions]
            if fu.suggested_date:
                out.append(f"- Next session: {md(fu.suggested_date)}")
            out.append("")
    out += ["## Plan and timing", "", "| Section | Budget | Actual | Mean score |",
            "|---|---|---|---|"]
    for s in view.sections:
        out.append(f"| {md(s['title'])} | {_fmt_s(s['budget_s'])} | {_fmt_s(s['actual_s'])} | "
                   f"{_num(s['mean'])} |")
    out.append("")
    for s in view.sections:
        out += [f"## {md(s['title'])}", ""]
        for g in s["groups"]:
            for tv in g.turns:
                t = tv.turn
                label = ("Follow-up" if t.kind == "follow_up"
                         else t.kind.replace("_", " ").capitalize())
                out += [f"### Turn {t.index}: {label}" + (f" ({md(t.question_id)})"
                                                          if t.question_id else ""), ""]
                out += [f"**Question:** {md(t.prompt_text)}", ""]
                if t.transcript:
                    out += [f"**Answer:** {md(t.transcript.text) or '(no words)'}", ""]
                    if tv.reply:
                        out += [f"**Interviewer's reply:** {md(tv.reply)}", ""]
                    if t.transcript.corrections:
                        out.append("Corrections: " + "; ".join(
                            f"{md(c.original)} → {md(c.corrected)}"
                            + (f" ({c.via})" if c.via else "")
                            for c in t.transcript.corrections))
                        out.append("")
                d = t.delivery
                if d:
                    out += [f"Delivery: {d.wpm:.0f} wpm, {d.words} words, speaking "
                            f"{d.speaking_time_s:.1f} s of {d.duration_s:.1f} s, "
                            f"{d.filler_count} fillers ({d.filler_rate:.1f} per 100 words), "
                            f"{d.long_pauses} pauses over {d.pause_threshold_s:.0f} s "
                            f"(longest {d.longest_pause_s:.1f} s)", ""]
                for a in tv.annotations:
                    at = f" at {a['at_s']:.1f} s" if a["at_s"] is not None else ""
                    lv = ", ".join(f"{md(k)} {v}" for k, v in a["levels"])
                    out.append(f"- Reviewer {md(a['reviewer'])}{at}: {md(a['comment'])}"
                               + (f" (levels: {lv})" if lv else ""))
                if tv.annotations:
                    out.append("")
            sc = g.score
            if sc:
                out += [f"**Scores** ({md(sc.engine)}): overall {sc.overall:.1f} / 5", ""]
                for c in sc.criteria:
                    rv = g.reviewer_levels.get(c.criterion)
                    out.append(f"- {md(c.criterion)}: {c.level}/5"
                               + (f" (reviewer: {md(', '.join(rv))})" if rv else "")
                               + (f" - {md(c.rationale)}" if c.rationale else ""))
                    for q in c.evidence:
                        out.append(f"  - evidence: \"{md(q)}\"")
                if sc.missed:
                    out.append(f"- Missed: {md(', '.join(sc.missed))}")
                out.append("")
    runs = session.coding_runs
    if runs:
        out += ["## Coding", ""]
        for r in runs:
            out += [f"### {md(r.question_id)}: {md(r.verdict)} ({r.passed}/{r.total} cases)", "",
                    "~~~~python", r.code.rstrip().replace("~~~~", "~ ~ ~ ~"), "~~~~", ""]
            out += [f"- {md(x)}" for x in r.static_issues]
            if r.sandbox_missing:
                missing = md(", ".join(r.sandbox_missing))
                out.append(f"- Sandbox layers missing on this machine: {missing}")
            out.append("")
    if view.faults:
        out += ["## Model faults and fallbacks", ""]
        out += [f"- {md(e.kind)}" + (f" (turn {e.turn})" if e.turn is not None else "")
                + f": {md(json.dumps(e.data, default=str, sort_keys=True))}" for e in view.faults]
        out.append("")
    if view.orphan_annotations:
        out += ["## Reviewer notes", ""]
        out += [f"- {md(a['reviewer'])}: {md(a['comment'])}" for a in view.orphan_annotations]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_feedback_md(session_dir: Path, session: Session | None = None) -> Path:
    """Render ``feedback.md`` into the session folder (atomically) and return its path."""
    session_dir = Path(session_dir)
    session = session or load_session(session_dir)  # callers holding it skip a re-read
    out = session_dir / FEEDBACK_FILE
    atomic_write_text(out, render_feedback_md(session, session_dir))
    return out


# ----------------------------------------------------------------------------- PDF


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def write_pdf(session_dir: Path, timeout_s: float = 120.0) -> Path:
    """Print report.html to report.pdf with headless Chromium (when installed)."""
    session_dir = Path(session_dir)
    html = session_dir / REPORT_FILE
    if not html.exists():
        write_report(session_dir)
    exe = find_chromium()
    if not exe:
        raise MockInterviewError("--pdf needs Chromium to print the report: apt-get install "
                                 f"chromium (the HTML report is at {html})")
    out = session_dir / PDF_FILE
    tmp = session_dir / f".{PDF_FILE}.{os.getpid()}.tmp"
    with tempfile.TemporaryDirectory(prefix="mi-pdf-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", html.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise MockInterviewError(f"{out}: Chromium did not finish printing in "
                                     f"{timeout_s:.0f} s") from None
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise MockInterviewError(f"{out}: Chromium could not print the report ({last})")
    os.replace(tmp, out)
    return out
