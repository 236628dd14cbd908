"""Coach tools: agreement statistics, calibration on the shipped set, rescore, export-grades."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mockinterview.cli.app import app
from mockinterview.clock import SimulatedClock
from mockinterview.coach.core import (
    agreement,
    calibrate,
    export_grades,
    load_calibration,
    rescore_session,
)
from mockinterview.config import load_config
from mockinterview.errors import CalibrationError
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.schema import Plan, PlannedSection
from mockinterview.session.flow import RecordingUI
from mockinterview.speech.listen import TextAnswers
from mockinterview.store import load_session

ROOT = Path(__file__).resolve().parents[1]
GRADED = ROOT / "rubrics" / "calibration" / "graded.jsonl"
HELDOUT = ROOT / "rubrics" / "calibration" / "heldout.jsonl"

TECH = ("Bias is the error from assumptions that are too simple, so a high bias model underfits. "
        "Variance is sensitivity to the training sample, so a high variance model overfits. "
        "More complexity lowers bias and raises variance, so I compare training and validation "
        "error, and add regularization or more data when validation error is much higher.")
BEH = ("At my previous company I was responsible for a churn model that had to ship in six "
       "weeks. The main obstacle was missing labels, so I decided to build a weak baseline first "
       "and I set up a labelling job with the support team. As a result we launched on time and "
       "churn dropped by four percent. I learned to get the evaluation in place before the model.")
ANSWERS = ["Could you repeat the question?", TECH, BEH, "No more questions, thank you."]


# ----------------------------------------------------------------------------- statistics


def test_spearman_matches_a_hand_computed_value_with_ties():
    # ranks of y with the tie at 7 averaged: [1, 2, 3.5, 5, 3.5]; rho = 8 / sqrt(10 * 9.5)
    rho = agreement.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    assert rho == pytest.approx(8 / math.sqrt(95))
    assert agreement.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert agreement.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert agreement.spearman([1, 2, 3], [4, 4, 4]) is None  # undefined, not 0 or NaN


def test_average_ranks_share_the_mean_rank_of_a_tie():
    assert agreement.average_ranks([10, 20, 20, 30, 20]) == [1, 3, 3, 5, 3]


def test_quadratic_weighted_kappa_matches_hand_computed_values():
    # observed: (1,1) (1,2) (2,2) (2,2); weights (i-j)^2/16; expected counts from the margins
    # num = 1/16, den = (2*3/4 + 2*1/4)/16 = 2/16  ->  kappa = 1 - 1/2
    assert agreement.quadratic_weighted_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5)
    assert agreement.quadratic_weighted_kappa([1, 3, 5], [1, 3, 5]) == pytest.approx(1.0)
    # complete reversal on the extremes: num = 2*16/16, den = (1*1*16 + 1*1*16)/(2*16) -> 1 - 2
    assert agreement.quadratic_weighted_kappa([1, 5], [5, 1]) == pytest.approx(-1.0)
    assert agreement.quadratic_weighted_kappa([3, 3], [3, 3]) is None
    with pytest.raises(ValueError):
        agreement.quadratic_weighted_kappa([0], [1])


def test_mae_and_agreement_shares_and_half_up_rounding():
    assert agreement.mean_absolute_error([1, 2, 3], [1, 4, 2]) == pytest.approx(1.0)
    assert agreement.share_within([1, 2, 3, 4], [1, 3, 5, 4], 0) == 0.5
    assert agreement.share_within([1, 2, 3, 4], [1, 3, 5, 4], 1) == 0.75
    assert [agreement.round_half_up(x) for x in (2.5, 3.49, 1.5, 4.51)] == [3, 3, 2, 5]


# ----------------------------------------------------------------------------- the shipped set


def test_shipped_calibration_set_has_the_promised_shape():
    items = [it for _, it in load_calibration(GRADED)]
    honest = [i for i in items if i.kind == "honest"]
    adversarial = [i for i in items if i.kind == "adversarial"]
    assert len(items) >= 60 and len(adversarial) >= 12
    grades: dict[str, set[int]] = defaultdict(set)
    for i in honest:
        grades[i.question].add(i.grade)
    assert len(grades) >= 15
    assert all(g == {1, 2, 3, 4, 5} for g in grades.values()), grades
    assert {i.section for i in items} >= {"technical", "behavioral", "system_design", "coding",
                                          "introduction"}
    assert all(i.grade <= 2 for i in adversarial)


def test_offline_engine_meets_the_quality_bar_on_the_shipped_set():
    """The regression guard: honest Spearman >= 0.6 and no adversarial answer above level 2."""
    report = calibrate(GRADED, load_config())
    assert report.overall.n >= 60
    assert report.honest.spearman is not None and report.honest.spearman >= 0.6, report.honest
    adversarial = [i for i in report.items if i.kind == "adversarial"]
    assert adversarial and max(i.predicted for i in adversarial) <= 2, \
        [(i.id, i.predicted) for i in adversarial if i.predicted > 2]
    assert report.adversarial_max <= 2
    every_question_in_bank = all(i.in_bank for i in report.items)
    assert every_question_in_bank


def test_offline_engine_meets_the_bar_on_the_held_out_set():
    report = calibrate(HELDOUT, load_config())
    assert report.honest.spearman >= 0.6 and report.adversarial_max <= 2


def test_calibrate_json_has_the_documented_keys():
    result = CliRunner().invoke(app, ["calibrate", str(GRADED), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("n", "spearman", "qwk", "mae", "exact", "within_one", "items",
                "honest_spearman", "adversarial_max"):
        assert key in data
    assert data["n"] == len(data["items"]) >= 60
    assert {"predicted", "grade", "id", "section", "kind"} <= set(data["items"][0])


# ----------------------------------------------------------------------------- bad lines


@pytest.mark.parametrize("line,expected", [
    ('{"question": "tech-overfitting", "section": "technical", "answer": "x", "grade": 7}',
     "grade: expected a whole number from 1 to 5, got 7"),
    ('{"question": "tech-overfitting", "section": "technical", "grade": 3}',
     "answer: required field missing"),
    ('{"question": "tech-overfitting", "section": "technical", "answer": "x", "grade": 3',
     "invalid JSON"),
    ('{"question": "tech-overfitting", "section": "technical", "answer": "x", "grade": 2.5}',
     "grade: expected a whole number"),
    ('{"question": "tech-overfitting", "section": "cooking", "answer": "x", "grade": 3}',
     "section:"),
])
def test_a_bad_line_is_reported_as_file_and_line(tmp_path, line, expected):
    good = json.dumps({"question": "tech-overfitting", "section": "technical",
                       "answer": "It memorises noise.", "grade": 2})
    f = tmp_path / "grades.jsonl"
    f.write_text(good + "\n\n" + line + "\n")
    with pytest.raises(CalibrationError) as e:
        calibrate(f, load_config())
    assert str(e.value).startswith(f"{f}:3: "), str(e.value)
    assert expected in str(e.value)


def test_the_cli_prints_one_line_for_a_bad_file(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"question": "tech-overfitting", "section": "technical", "answer": "x", '
                 '"grade": 0}\n')
    exe = Path(sys.executable).parent / "mockinterview"  # the installed console script
    proc = subprocess.run([str(exe), "calibrate", str(f)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{f}:1: grade" in lines[0] and "Traceback" not in proc.stderr


def test_unknown_question_is_scored_from_the_lines_key_points(tmp_path):
    f = tmp_path / "adhoc.jsonl"
    kp = ["the p-value is the probability of data at least this extreme under the null",
          "it is not the probability that the null hypothesis is true"]
    rows = [
        {"question": "What does a p-value tell you, in plain words?", "section": "technical",
         "answer": "No idea, sorry.", "grade": 1, "key_points": kp},
        {"question": "What does a p-value tell you, in plain words?", "section": "technical",
         "answer": "The p-value is the probability of seeing data at least this extreme if the "
                   "null hypothesis were true. It is not the probability that the null is true, "
                   "which is a common mistake, because that would need a prior.",
         "grade": 4, "key_points": kp},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = calibrate(f, load_config())
    assert [i.in_bank for i in report.items] == [False, False]
    assert report.items[0].predicted < report.items[1].predicted


# ----------------------------------------------------------------------------- sessions


@pytest.fixture(scope="module")
def typed_session(tmp_path_factory):
    """A real session from the flow with typed answers (one superseded by a voice command)."""
    rec = tmp_path_factory.mktemp("coach-recordings")
    mp = pytest.MonkeyPatch()
    mp.setenv("MOCKINTERVIEW_RECORDINGS", str(rec))
    try:
        cfg = load_config()
        plan = Plan(role="ml-engineer", level="mid", minutes=10, sections=[
            PlannedSection(section="technical", budget_s=200, question_ids=["tech-bias-variance"]),
            PlannedSection(section="behavioral", budget_s=200,
                           question_ids=["beh-challenging-project"]),
            PlannedSection(section="candidate_questions", budget_s=60),
            PlannedSection(section="feedback", budget_s=30),
        ])
        session, folder = new_session(cfg, plan, "offline", "tiny.en", "text")
        run_interview(cfg, session, folder, TextAnswers(ANSWERS),
                      RunOptions(play=False, max_follow_ups=0), ui=RecordingUI(),
                      clock=SimulatedClock())
    finally:
        mp.undo()
    return folder


@pytest.fixture
def session_copy(typed_session, recordings):
    dest = recordings / typed_session.name
    shutil.copytree(typed_session, dest)
    return dest


def _edited_bank(tmp_path: Path) -> Path:
    """A copy of the bank where the technical depth criterion is measured as coverage."""
    bank = tmp_path / "rubrics-v2"
    shutil.copytree(ROOT / "rubrics", bank)
    data = yaml.safe_load((bank / "sections.yaml").read_text())
    for sec in data["sections"]:
        if sec["section"] == "technical":
            for c in sec["criteria"]:
                if c["id"] == "depth":
                    c["measure"] = "coverage"
    (bank / "sections.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return bank


def test_rescore_adds_a_run_and_keeps_the_old_one(session_copy, tmp_path):
    before = load_session(session_copy)
    assert [r.id for r in before.scoring_runs] == ["live"]
    live_ids = {s.question_id for s in before.latest_scores}
    result = rescore_session(session_copy, load_config(), rubrics=_edited_bank(tmp_path))
    after = load_session(session_copy)
    assert [r.id for r in after.scoring_runs] == ["live", "rescore-1"]
    assert after.scoring_runs[0] == before.scoring_runs[0]  # the old run is untouched
    new = after.scoring_runs[1]
    assert {s.question_id for s in new.scores} == live_ids == {"tech-bias-variance",
                                                               "beh-challenging-project"}
    assert new.engine == "offline" and new.rubric_dir.endswith("rubrics-v2")
    assert "rubrics/sections.yaml" in new.hashes
    assert any(k.startswith("prompts/") for k in new.hashes)
    assert new.hashes["rubrics/sections.yaml"] != before.hashes["rubrics/sections.yaml"]
    # the superseded "repeat" turn is no answer: the technical answer is the typed TECH text
    tech = next(s for s in new.scores if s.question_id == "tech-bias-variance")
    assert all(q in TECH for c in tech.criteria for q in c.evidence)
    depth = [c for c in result.changes if c.question_id == "tech-bias-variance"
             and c.criterion == "depth"][0]
    assert depth.after == next(c.level for c in tech.criteria if c.criterion == "depth")
    assert result.changed_files == ["rubrics/sections.yaml"]  # against the live run's versions
    # a second rescore numbers on; same bank as the live run's session: no files differ
    again = rescore_session(session_copy, load_config())
    assert [r.id for r in load_session(session_copy).scoring_runs][-1] == "rescore-2"
    assert again.baseline_label == "run rescore-1" and again.changed_files == [
        "rubrics/sections.yaml"]
    third = rescore_session(session_copy, load_config())
    assert third.changed_files == [] and third.changed == []


def test_rescore_against_prints_both_versions_and_the_difference(session_copy, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    v2 = _edited_bank(tmp_path)
    result = CliRunner().invoke(app, ["rescore", session_copy.name, "--rubrics", str(v2),
                                      "--against", str(ROOT / "rubrics")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "against rubrics" in out and "rescore-1" in out and "diff" in out
    row = next(ln for ln in out.splitlines() if "depth" in ln and "│" in ln)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    old, new, diff = cells[-3], cells[-2], cells[-1]
    assert int(new) - int(old) == (int(diff) if diff != "0" else 0)
    assert len(load_session(session_copy).scoring_runs) == 2


def test_a_damaged_session_is_one_line_and_the_others_go_on(session_copy, recordings,
                                                            monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    broken = recordings / "20000101-000000-broken"
    broken.mkdir()
    (broken / "session.json").write_text('{"schema_version": 1, "id": ')
    result = CliRunner().invoke(app, ["rescore", str(broken), session_copy.name])
    assert result.exit_code == 1
    assert "skipped:" in result.output and "truncated" in result.output
    assert [r.id for r in load_session(session_copy).scoring_runs] == ["live", "rescore-1"]


def test_export_grades_round_trips_into_calibrate(session_copy, tmp_path, monkeypatch):
    from mockinterview.review.server import add_annotation

    s = load_session(session_copy)
    tech_turn = next(t.index for t in s.turns if t.question_id == "tech-bias-variance"
                     and "command" not in t.capture)
    beh_turn = next(t.index for t in s.turns if t.question_id == "beh-challenging-project")
    add_annotation(session_copy, turn=tech_turn, levels={"correctness": 4, "depth": 3,
                                                         "communication": 4})
    add_annotation(session_copy, turn=beh_turn, levels={"star": 5, "depth": 4})
    add_annotation(session_copy, turn=beh_turn, comment="no levels: not a grade")
    out = tmp_path / "exported.jsonl"
    result = CliRunner().invoke(app, ["export-grades", session_copy.name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["question"], x["grade"]) for x in lines] == [("tech-bias-variance", 4),
                                                            ("beh-challenging-project", 5)]
    assert lines[0]["answer"] == TECH and lines[1]["answer"] == BEH
    report = calibrate(out, load_config())
    assert [(i.question_id, i.grade) for i in report.items] == [("tech-bias-variance", 4),
                                                                ("beh-challenging-project", 5)]
    assert all(i.in_bank for i in report.items)
    lines_again, problems = export_grades([session_copy])
    assert lines_again == lines and problems == []


def test_calibrate_against_prints_both_columns(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    v2 = _edited_bank(tmp_path)
    result = CliRunner().invoke(app, ["calibrate", str(HELDOUT), "--rubrics", str(v2),
                                      "--against", str(ROOT / "rubrics")])
    assert result.exit_code == 0, result.output
    assert "two rubric versions" in result.output
    row = next(ln for ln in result.output.splitlines() if ln.startswith("│ Spearman "))
    cells = [c.strip() for c in row.split("│") if c.strip()]
    base, new, diff = float(cells[1]), float(cells[2]), cells[3]
    assert diff == "0" or float(diff) == pytest.approx(new - base, abs=0.002)


def test_calibrate_with_the_llm_engine_over_real_http():
    """The LLM engine through the real openai client against the local scripted server, whose
    canned interviewer gives level 3 to answers over 40 words and 2 to shorter ones."""
    from mockinterview.config import Config, LLMConfig
    from mockinterview.testing.openai_server import ScriptedOpenAIServer, canned_interviewer

    with ScriptedOpenAIServer(models=["scripted-model"], handler=canned_interviewer) as srv:
        cfg = Config(llm=LLMConfig(base_url=srv.base_url, model="scripted-model"))
        report = calibrate(HELDOUT, cfg, engine="llm")
        asked = len(srv.chat_requests())
    assert report.engine == "llm" and asked >= report.overall.n
    items = {i.line: i for i in report.items}
    for line, item in load_calibration(HELDOUT):
        if item.kind == "honest":
            words = len(item.answer.split())
            assert items[line].predicted == (3 if words > 40 else 2), (line, words)


def test_the_llm_engine_without_an_endpoint_is_one_clear_error(monkeypatch):
    from mockinterview.config import Config
    from mockinterview.errors import MockInterviewError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MockInterviewError, match="no LLM endpoint is configured"):
        calibrate(HELDOUT, Config(), engine="llm")


# ----------------------------------------------------------------------------- a coach's own words

WORDINGS = Path(__file__).parent / "data" / "coach-wordings.jsonl"


def test_questions_in_a_coachs_own_words_are_found_and_the_rest_listed():
    """tests/data/coach-wordings.jsonl: questions as a coach writes them (hyphens, spellings,
    word order, "describe how X works" for "how does X work?"); each line's note names the bank
    question it means, or none."""
    report = calibrate(WORDINGS, load_config())
    expected = {}
    for lineno, line in enumerate(WORDINGS.read_text().splitlines(), 1):
        want = json.loads(line)["note"].rsplit(": ", 1)[1]
        expected[lineno] = None if want == "none" else want
    scored = {i.line: i.question_id for i in report.items}
    assert scored == {k: v for k, v in expected.items() if v is not None}
    unmatched_lines = sorted(k for k, v in expected.items() if v is None)
    assert len(report.unmatched) == len(unmatched_lines) == 2
    for lineno, problem in zip(unmatched_lines, report.unmatched, strict=True):
        assert problem.startswith(f"{WORDINGS}:{lineno}: question: ")
        assert "matches no bank question in section technical; nearest: " in problem
    assert "tech-" in report.unmatched[0]  # the nearest bank questions are named with their ids
    assert report.as_json()["unmatched"] == report.unmatched


def test_strict_stops_at_the_first_unmatched_line():
    with pytest.raises(CalibrationError) as e:
        calibrate(WORDINGS, load_config(), strict=True)
    assert str(e.value).startswith(f"{WORDINGS}:15: question: 'How do you cook a perfect risotto?'")
    assert "nearest:" in str(e.value)


def test_an_unknown_question_with_no_key_points_no_longer_stops_the_run(tmp_path):
    good = json.dumps({"question": "Explain the bias-variance tradeoff.", "section": "technical",
                       "answer": "Bias is underfitting, variance is overfitting.", "grade": 2})
    bad = json.dumps({"question": "What is a p-value really, in your own words, for a child?",
                      "section": "system_design", "answer": "x", "grade": 3})
    f = tmp_path / "grades.jsonl"
    f.write_text(good + "\n" + bad + "\n")
    report = calibrate(f, load_config())
    assert [i.question_id for i in report.items] == ["tech-bias-variance"]
    assert report.unmatched[0].startswith(f"{f}:2: question: ")
    exe = Path(sys.executable).parent / "mockinterview"
    proc = subprocess.run([str(exe), "calibrate", str(f)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert f"unmatched: {f}:2: question:" in " ".join(proc.stderr.split())
    proc = subprocess.run([str(exe), "calibrate", "--strict", str(f)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode != 0 and f"{f}:2: question:" in " ".join(proc.stderr.split())


def test_question_similarity_reads_what_coaches_change():
    from mockinterview.coach.core import question_similarity

    assert question_similarity("Explain the bias-variance tradeoff.",
                               "Explain the bias-variance trade-off.") == 100
    assert question_similarity("Describe how a decision tree works.",
                               "How does a decision tree work?") == 100
    assert question_similarity("What is regularization?", "What is regularisation?") == 100
    assert question_similarity("How do you cook risotto?", "How does a decision tree work?") < 60


def test_rescore_finds_a_renamed_question_by_its_wording(session_copy, tmp_path):
    """The bank renamed tech-bias-variance: the session's answers are scored with the question
    its words match; with strict the session is refused with the nearest questions named."""
    bank = tmp_path / "rubrics-renamed"
    shutil.copytree(ROOT / "rubrics", bank)
    ml = bank / "questions" / "technical_ml.yaml"
    ml.write_text(ml.read_text().replace("id: tech-bias-variance", "id: tech-bias-variance-v2"))
    result = rescore_session(session_copy, load_config(), rubrics=bank, save=False)
    assert "tech-bias-variance-v2" in {s.question_id for s in result.run.scores}
    assert any("tech-bias-variance is not in the bank; scored as tech-bias-variance-v2" in p
               for p in result.problems)
    from mockinterview.errors import SessionError

    gone = tmp_path / "rubrics-gone"
    shutil.copytree(bank, gone)
    ml = gone / "questions" / "technical_ml.yaml"
    ml.write_text(ml.read_text().replace("Explain the bias-variance trade-off.",
                                         "Why do ensembles of shallow trees help?"))
    result = rescore_session(session_copy, load_config(), rubrics=gone, save=False)
    assert any(p.startswith(f"{result.session_id}: turn ") and "nearest: " in p
               and p.endswith("not re-scored") for p in result.problems), result.problems
    with pytest.raises(SessionError, match="matches no bank question; nearest: "):
        rescore_session(session_copy, load_config(), rubrics=gone, save=False, strict=True)
