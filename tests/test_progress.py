"""Progress across sessions, the index, and plans that follow up on weak areas."""

from __future__ import annotations

from typer.testing import CliRunner

from mockinterview.cli.app import app
from mockinterview.clock import SimulatedClock
from mockinterview.config import load_config
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.session.progress import recent_history, slope, trends
from mockinterview.speech.listen import TextAnswers
from mockinterview.store import index_snapshot, rebuild_index

WEAK = "I am not sure. It is something about data."
STRONG_PARTS = (
    "Bias is the error from overly simple assumptions, so the model underfits, while variance "
    "is the sensitivity to the particular training sample, so the model overfits. Adding "
    "regularisation, more data or bagging lowers variance; a more flexible model lowers bias. "
    "For example, we used cross validation to pick the tree depth, because training error alone "
    "is misleading, and we compared learning curves on a held out validation set. Precision, "
    "recall, F1 and ROC AUC tell different stories when classes are imbalanced, so we chose the "
    "threshold from the cost of each error."
)


def _session(bank, answers: list[str], seed: int):
    cfg = load_config()
    plan = make_plan(bank, "data-scientist", "mid", 30, sections=["technical"], seed=seed,
                     per_section={"technical": 2})
    session, folder = new_session(cfg, plan, "offline", "tiny.en", "text")
    return run_interview(cfg, session, folder, TextAnswers(answers),
                         RunOptions(play=False, max_follow_ups=0), bank=bank,
                         clock=SimulatedClock(), ui=RecordingUI())


def test_progress_trend_index_and_chart(recordings, bank, tmp_path):
    _session(bank, [WEAK, WEAK], seed=1)
    _session(bank, [WEAK + " " + STRONG_PARTS[:200], WEAK], seed=2)
    _session(bank, [STRONG_PARTS, STRONG_PARTS], seed=3)
    data = trends(recordings)
    points = data["section"]["technical"]
    assert len(points) == 3
    assert points[-1][1] > points[0][1] and slope(points) > 0

    live = index_snapshot(recordings)
    assert rebuild_index(recordings) == []
    assert index_snapshot(recordings) == live

    chart = tmp_path / "progress.svg"
    result = CliRunner().invoke(app, ["progress", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    import xml.etree.ElementTree as ET

    svg = ET.fromstring(chart.read_text())  # well-formed, self-contained SVG
    ns = {"s": "http://www.w3.org/2000/svg"}
    lines = svg.findall(".//s:polyline", ns)
    sections = {t.findtext("s:title", namespaces=ns) for t in lines}
    assert "technical" in sections
    n_sessions = len(trends(recordings)["section"]["technical"])
    technical = next(p for p in lines if p.findtext("s:title", namespaces=ns) == "technical")
    assert len(technical.get("points").split()) == n_sessions >= 2
    assert "technical" in result.output and "↑" in result.output


def test_next_plan_avoids_recent_questions_and_leans_to_weak_topics(recordings, bank):
    s = _session(bank, [WEAK, WEAK], seed=5)
    asked = {t.question_id for t in s.turns if t.question_id}
    history = recent_history(recordings, "data-scientist")
    assert history.recent == asked
    assert history.weak_topics  # weak answers everywhere: their topics are weak
    assert any("weakest topics" in r for r in history.reasons)
    plan = make_plan(bank, "data-scientist", "mid", 30, sections=["technical"], seed=5,
                     history=history, per_section={"technical": 3})
    picked = plan.sections[0].question_ids
    assert not asked & set(picked)
    weak = set(history.weak_topics)
    assert sum(1 for q in picked if weak & set(bank.question(q).topics)) >= 2


def test_schedule_writes_an_ics_file(recordings, bank):
    s = _session(bank, [WEAK, WEAK], seed=9)
    result = CliRunner().invoke(app, ["schedule", s.id, "--date", "2026-12-01"])
    assert result.exit_code == 0, result.output
    ics = (recordings / s.id / "follow-up.ics").read_text()
    assert "BEGIN:VEVENT" in ics and "DTSTART;VALUE=DATE:20261201" in ics
    bad = CliRunner().invoke(app, ["schedule", s.id, "--date", "next week"])
    assert bad.exit_code != 0 and "not a date" in str(bad.exception)
