"""report.html and feedback.md as files: self-contained, escaped, complete; the CLI commands."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mockinterview.cli.app import app
from mockinterview.review.report import (
    pace_svg,
    safe_media_path,
    write_feedback_md,
    write_pdf,
    write_report,
)
from mockinterview.schema import Event, Plan, PlannedSection, Session, Transcript, Turn
from mockinterview.store import load_session, save_session
from mockinterview.testing.sessions import build_hostile_session, build_typed_session


def test_report_is_self_contained_with_a_strict_policy(recordings):
    folder = recordings / "s1"
    build_typed_session(folder)
    html = write_report(folder).read_text()
    # Nothing is fetched from anywhere: no external src/href, audio relative to the folder.
    assert not re.search(r'(src|href|action)="(https?:)?//', html)
    assert 'src="audio/a00.wav"' in html
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                             html).group(1))
    for directive in ("default-src 'none'", "object-src 'none'", "base-uri 'none'",
                      "media-src 'self'", "form-action 'none'", "connect-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    # Exactly one executable script and one style, each allowed by the hash of its own text.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, _ in scripts] == [' type="application/json" id="report-data"', ""]
    styles = re.findall(r"<style([^>]*)>(.*?)</style>", html, re.S)
    assert [attrs for attrs, _ in styles] == [""]

    def source(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {source(scripts[1][1])};" in csp
    assert f"style-src {source(styles[0][1])};" in csp
    assert " style=" not in html  # inline style attributes would need 'unsafe-inline'


def test_hostile_text_is_escaped_everywhere(recordings):
    folder = recordings / "h"
    build_hostile_session(folder)
    html = write_report(folder).read_text()
    assert "<script>window" not in html
    assert "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert 'src="javascript' not in html and "etc/passwd\"" not in html
    md = write_feedback_md(folder).read_text()
    # Code stays verbatim inside its fence (renderers show fenced code as text); the rest is
    # escaped so that no Markdown renderer turns it into HTML or links.
    md = re.sub(r"(?ms)^~~~~python\n.*?^~~~~$", "", md)
    assert not re.search(r"(?<!\\)[<>]", md)  # every angle bracket is backslash-escaped
    assert r"\<script\>window.\_\_pwned" not in md  # emphasis characters are left alone
    assert r"\<script\>window.__pwned=1\</script\>" in md


def test_feedback_md_has_each_question_scores_and_delivery(recordings):
    folder = recordings / "s1"
    build_typed_session(folder)
    md = write_feedback_md(folder).read_text()
    for expected in ("# Mock interview s1", "| Technical | 2:00 |", "**Question:** What is bias?",
                     "**Answer:** Bias is error from wrong assumptions",
                     "- correctness: 3/5 - Right idea.", '  - evidence: "wrong assumptions"',
                     "- depth: 2/5 - Short."):
        assert expected in md, expected


def test_safe_media_path_refuses_paths_out_of_the_folder(tmp_path):
    folder = tmp_path / "s"
    (folder / "audio").mkdir(parents=True)
    (folder / "audio" / "a b.wav").write_bytes(b"RIFF")
    (tmp_path / "outside.wav").write_bytes(b"RIFF")
    os.symlink(tmp_path / "outside.wav", folder / "audio" / "link.wav")
    assert safe_media_path(folder, "audio/a b.wav") == "audio/a%20b.wav"
    for bad in ("../outside.wav", "/etc/passwd", str(tmp_path / "outside.wav"),
                "javascript:alert(1)", "audio/link.wav", "audio/missing.wav", "audio",
                "audio\\a b.wav", "", None):
        assert safe_media_path(folder, bad) is None, bad


def test_pace_chart_is_numbers_only():
    svg = pace_svg([120.0, 150.0, float("nan"), 90.0])
    assert svg.startswith("<svg") and "<polyline" in svg
    assert pace_svg([100.0]) == ""  # one window is no curve


def test_minimal_in_progress_session_renders(recordings):
    folder = recordings / "m"
    folder.mkdir()
    save_session(Session(id="m", plan=Plan(role="genai-engineer", level="senior", minutes=20,
                                           sections=[PlannedSection(section="technical",
                                                                    budget_s=600)]),
                         turns=[Turn(index=0, section="introduction", prompt_text="Hello!",
                                     prompt_audio="audio/q00.wav")],
                         events=[Event(kind="section_end", t_mono=1,
                                       data={"section": "introduction", "used_s": 75.0})]),
                 folder)
    html = write_report(folder).read_text()
    assert "Question audio unavailable (audio/q00.wav)" in html
    assert "Introduction" in html and '<td class="actual">1:15</td>' in html
    assert "No turns in this section" in html  # the planned technical section was not reached
    write_feedback_md(folder)


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium missing")
def test_pdf_is_printed(recordings):
    folder = recordings / "p"
    build_typed_session(folder)
    pdf = write_pdf(folder)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000


def test_cli_report_and_annotate(recordings):
    folder = recordings / "20261125-100000-ds"
    build_typed_session(folder)
    runner = CliRunner()
    r = runner.invoke(app, ["report", folder.name])
    assert r.exit_code == 0, r.output
    assert (folder / "report.html").exists() and (folder / "feedback.md").exists()
    r = runner.invoke(app, ["annotate", "20261125-100000", "--turn", "0", "--at", "0.5",
                            "--comment", "Name the assumptions.", "--level", "depth=4",
                            "--reviewer", "dana"])
    assert r.exit_code == 0, r.output
    note = load_session(folder).annotations[-1]
    assert (note.turn, note.at_s, note.comment, note.levels, note.reviewer) == \
        (0, 0.5, "Name the assumptions.", {"depth": 4}, "dana")
    assert "Name the assumptions." in (folder / "report.html").read_text()
    r = runner.invoke(app, ["annotate", folder.name, "--turn", "0", "--level", "depth=high"])
    assert r.exit_code == 2 and "expected criterion=N" in r.output
    assert len(load_session(folder).annotations) == 1


def test_annotated_levels_reach_the_index(recordings):
    """Reviewer levels are indexed (source 'reviewer') so ``progress`` can show them."""
    from mockinterview.review.server import add_annotation
    from mockinterview.store import index_snapshot, update_index

    folder = recordings / "ix"
    session = build_typed_session(folder)
    update_index(recordings, session, folder)
    add_annotation(folder, turn=0, levels={"correctness": 5}, comment="fine")
    rows = index_snapshot(recordings)["scores"]
    assert ("ix", "ml.bias", "technical", "correctness", 5, "reviewer") in rows
    assert ("ix", "ml.bias", "technical", "correctness", 3, "ai") in rows



def test_criterion_names_and_level_descriptors_from_the_rubric(recordings, tmp_path, monkeypatch):
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    levels = "\n".join(f"          {n}: level {n} means <b>{n}</b>" for n in range(1, 6))
    crit = ("      - id: {id}\n        name: {name}\n        weight: 0.5\n"
            "        measure: coverage\n        levels:\n" + levels + "\n")
    (rubrics / "sections.yaml").write_text(
        "sections:\n  - section: technical\n    title: Technical\n    criteria:\n"
        + crit.format(id="correctness", name="Technical correctness")
        + crit.format(id="depth", name="Depth & specifics"))
    monkeypatch.setenv("MOCKINTERVIEW_RUBRICS", str(rubrics))
    folder = recordings / "s1"
    build_typed_session(folder)
    html = write_report(folder).read_text()
    assert "Technical correctness <span class=\"muted\">correctness</span>" in html
    assert "Depth &amp; specifics" in html
    assert 'title="3: level 3 means &lt;b&gt;3&lt;/b&gt;"' in html
    # Without a rubric file the report still renders, with ids only.
    monkeypatch.setenv("MOCKINTERVIEW_RUBRICS", str(tmp_path / "none"))
    html = write_report(folder).read_text()
    assert '<th scope="row">correctness</th>' in html


def test_evidence_matches_across_whisper_word_splits():
    """Whisper emits "two-stage" as the words "two" and "-stage"; the quote keeps it whole."""
    from mockinterview.review.report import WordView, _find_quote

    words = [WordView(t, i * 0.3, i * 0.3 + 0.2, i) for i, t in
             enumerate("I would use a two -stage design, candidate generation".split())]
    assert _find_quote(words, "a two-stage design") == (3, 7)
    assert _find_quote(words, "Two-stage DESIGN, candidate") == (4, 8)
    assert _find_quote(words, "three-stage design") is None
    assert _find_quote(words, "...") is None


def test_interviewer_reply_to_a_candidate_question(recordings):
    folder = recordings / "r"
    session = build_typed_session(folder)
    session.turns.append(Turn(index=1, section="candidate_questions", kind="candidate_question",
                              prompt_text="What would you like to ask me?",
                              transcript=Transcript(text="How often do you ship?",
                                                    source="text"),
                              capture={"reply": "Teams ship <b>weekly</b>.",
                                       "reply_audio": "audio/a00.wav"}))
    save_session(session, folder)
    html = write_report(folder).read_text()
    assert '<p class="reply-text">Teams ship &lt;b&gt;weekly&lt;/b&gt;.</p>' in html
    assert '<audio class="reply-audio" controls preload="metadata" src="audio/a00.wav">' in html
    assert "**Interviewer's reply:** Teams ship \\<b\\>weekly\\</b\\>." in \
        write_feedback_md(folder).read_text()


def test_corrections_are_marked_where_they_happened():
    """Positions count raw words; a two-word miss corrected to one word shifts the rest."""
    from mockinterview.review.report import WordView, _apply_corrections
    from mockinterview.schema import Correction

    text = "In supervised learning we train on labels but supervised learning needs k-means"
    words = [WordView(w, i * 0.3, i * 0.3 + 0.2, i) for i, w in enumerate(text.split())]
    tr = Transcript(text=text, corrections=[
        Correction(original="super -mised learning", corrected="supervised learning", position=1),
        Correction(original="super -mised learning", corrected="supervised learning", position=9),
        Correction(original="came ins", corrected="k-means", position=14)])
    _apply_corrections(words, tr)
    marked = {w.index: w.correction for w in words if w.correction}
    assert marked == {1: "heard: super -mised learning", 2: "heard: super -mised learning",
                      8: "heard: super -mised learning", 9: "heard: super -mised learning",
                      11: "heard: came ins"}
    # Segments still holding the raw words: the raw words are marked with what they became.
    raw = [WordView(w, None, None, i) for i, w in enumerate("we train on lay bells".split())]
    _apply_corrections(raw, Transcript(text="", corrections=[
        Correction(original="lay bells", corrected="labels", position=3)]))
    assert [w.correction for w in raw][3:] == ["corrected to: labels"] * 2


def test_missing_sandbox_layers_are_shown_in_both_reports(recordings):
    """A coding run records the sandbox layers it lacked; the reader of the report must see them."""
    from mockinterview.schema import CodingRun

    folder = recordings / "layers"
    session = build_typed_session(folder)
    session.coding_runs = [CodingRun(
        question_id="code.x", code_path="code/x.py", code="def f():\n    return 1\n",
        verdict="all 1 cases passed", passed=1, total=1, sandbox=["landlock-fs", "env"],
        sandbox_missing=["seccomp", "pidns"])]
    save_session(session, folder)
    html = unescape(write_report(folder).read_text())
    assert "Sandbox layers missing on this machine: seccomp, pidns" in html
    md = write_feedback_md(folder).read_text()
    assert "Sandbox layers missing on this machine: seccomp, pidns" in md
    session.coding_runs[0].sandbox_missing = []
    save_session(session, folder)
    assert "Sandbox layers missing" not in write_report(folder).read_text()
