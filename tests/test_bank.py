"""The bank checker: every shipped file passes; every rule fails a broken file with file:line."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mockinterview.bank import check_bank, load_bank
from mockinterview.cli.app import app
from mockinterview.errors import BankError

ROOT = Path(__file__).resolve().parents[1]

SECTION = """\
sections:
  - section: technical
    title: Technical
    criteria:
      - id: correctness
        name: Correctness
        weight: 0.6
        measure: correctness
        levels: {1: a, 2: b, 3: c, 4: d, 5: e}
      - id: depth
        name: Depth
        weight: 0.4
        measure: depth
        levels: {1: a, 2: b, 3: c, 4: d, 5: e}
"""
QUESTION = """\
questions:
  - id: tech-one
    section: technical
    text: What is regularisation?
    roles: [ml-engineer]
    levels: [mid]
    key_points:
      - id: penalty
        point: Regularisation adds a penalty on model complexity.
        phrasings: [penalty, weight decay]
    probes:
      - key_point: penalty
        text: What does the penalty do to the weights?
"""
PROFILE = """\
profile:
  role: ml-engineer
  title: ML engineer
  company: Example
  team: Team
  summary: Fictional.
"""


def write_bank(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "rubrics"
    base = {"sections.yaml": SECTION, "questions/q.yaml": QUESTION, "roles/ml.yaml": PROFILE}
    base.update({k.replace("__", "/").replace("_yaml", ".yaml"): v for k, v in files.items()})
    for rel, text in base.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[^:]+): (?P<msg>.+)$")


def problems_of(root: Path) -> list[re.Match]:
    _bank, problems = check_bank(root)
    matches = [LINE.match(p) for p in problems]
    assert all(matches), problems
    return matches


def test_shipped_bank_passes_with_the_required_counts(bank):
    _b, problems = check_bank(ROOT / "rubrics")
    assert problems == []
    by = bank.summary()["section"]
    assert sum(by.values()) >= 100
    assert by["introduction"] >= 4 and by["technical"] >= 40 and by["coding"] >= 12
    assert by["behavioral"] >= 16 and by["system_design"] >= 14
    texts = " ".join(q.text.lower() for q in bank.questions.values())
    for phrase in ["supervised", "decision tree", "neural network", "accuracy of a classification",
                   "missing values", "challenging project", "tight deadlines",
                   "recommendation system for an e-commerce", "deploying a machine learning"]:
        assert phrase in texts, phrase
    assert set(bank.profiles) == {"ml-engineer", "data-scientist", "genai-engineer"}


def test_valid_minimal_bank(tmp_path):
    assert problems_of(write_bank(tmp_path)) == []


@pytest.mark.parametrize("name,files,line,field,msg", [
    ("yaml syntax", {"questions__q_yaml": QUESTION.replace("    text: What", "    text: [What")},
     None, "yaml", ""),
    ("unknown key", {"questions__q_yaml": QUESTION.replace("    levels: [mid]\n",
                                                           "    levels: [mid]\n    levle: x\n")},
     7, "levle", "unknown key"),
    ("duplicate id", {"questions__q2_yaml": QUESTION}, 2, "id", "duplicate id"),
    ("weights", {"sections_yaml": SECTION.replace("weight: 0.4", "weight: 0.5")}, 2, "criteria",
     "weights sum to 1.1"),
    ("level missing", {"sections_yaml": SECTION.replace("{1: a, 2: b, 3: c, 4: d, 5: e}",
                                                         "{1: a, 2: b, 4: d, 5: e}", 1)},
     9, "levels", "level 3"),
    ("unknown probe key point", {"questions__q_yaml": QUESTION.replace("- key_point: penalty",
                                                                      "- key_point: nope")},
     12, "key_point", "unknown key point 'nope'"),
    ("empty key points", {"questions__q_yaml": QUESTION.split("    key_points:")[0]
                          + "    key_points: []\n"}, 7, "key_points", "at least 1"),
    ("unknown section", {"questions__q_yaml": QUESTION.replace("section: technical",
                                                               "section: chitchat")},
     3, "section", "introduction"),
    ("unknown role", {"questions__q_yaml": QUESTION.replace("[ml-engineer]", "[astronaut]")},
     5, "roles", "ml-engineer"),
])
def test_each_rule_reports_file_line_field(tmp_path, name, files, line, field, msg):
    root = write_bank(tmp_path, **files)
    found = problems_of(root)
    assert found, name
    hit = [m for m in found if field in m["field"] and msg in m["msg"]]
    assert hit, [m.group(0) for m in found]
    assert Path(hit[0]["file"]).exists()
    if line is not None:
        assert int(hit[0]["line"]) == line, hit[0].group(0)
    with pytest.raises(BankError):
        load_bank(root)


def test_coding_starter_must_define_the_function(tmp_path):
    coding = textwrap.dedent("""\
        questions:
          - id: code-x
            section: coding
            text: Implement accuracy.
            roles: [ml-engineer]
            levels: [mid]
            key_points:
              - {id: loop, point: Compare the lists element by element.}
            coding:
              function: accuracy
              signature: "def accuracy(a, b):"
              starter: "def other(a, b):\\n    raise NotImplementedError\\n"
              cases:
                - {args: [[1], [1]], expected: 1.0}
        """)
    section = SECTION.replace("section: technical", "section: coding")
    root = write_bank(tmp_path, questions__c_yaml=coding)
    (root / "sections2.yaml").write_text(section)
    msgs = [m["msg"] for m in problems_of(root)]
    assert any("does not define accuracy()" in m for m in msgs), msgs


def test_cli_check_exit_status_and_summary(tmp_path):
    good = CliRunner().invoke(app, ["rubrics", "check", str(write_bank(tmp_path / "a"))])
    assert good.exit_code == 0 and "all files are valid" in good.output
    bad_root = write_bank(tmp_path / "b", sections_yaml=SECTION.replace("0.4", "0.9"))
    bad = CliRunner().invoke(app, ["rubrics", "check", str(bad_root)])
    assert bad.exit_code == 1
    assert re.search(r"sections\.yaml:2: .*criteria: weights sum to 1\.5", bad.output)


def test_questions_list_filters(bank):
    r = CliRunner().invoke(app, ["questions", "list", "--section", "behavioral",
                                 "--role", "genai-engineer", "--level", "senior"],
                           env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    expected = bank.select(section="behavioral", role="genai-engineer", level="senior")
    assert f"{len(expected)} questions" in r.output
    for q in expected:
        assert q.id in r.output
    shown = CliRunner().invoke(app, ["questions", "show", "tech-supervised-vs-unsupervised"])
    assert shown.exit_code == 0 and "labels" in shown.output


# ----------------------------------------------------------------------------- fuzzing

nested = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                     children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_give_problems_never_exceptions(tmp_path, data):
    root = write_bank(tmp_path)
    (root / "questions" / "fuzz.yaml").write_bytes(data)
    _bank, problems = check_bank(root)
    assert isinstance(problems, list)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=nested, field=st.sampled_from(["id", "section", "text", "roles", "levels",
                                            "key_points", "probes", "time_limit_s", "coding",
                                            "topics", "misconceptions"]))
def test_wrong_types_in_every_field_give_clean_errors(tmp_path, value, field):
    import yaml

    q = yaml.safe_load(QUESTION)
    q["questions"][0][field] = value
    root = write_bank(tmp_path)
    (root / "questions" / "q.yaml").write_text(yaml.safe_dump(q))
    _bank, problems = check_bank(root)
    for p in problems:
        assert LINE.match(p), p


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000,  # deep nesting
    "questions:\n  - id: x\n    text: " + "y" * 3_000_000,  # huge
    QUESTION[:100],  # truncated
    "questions: !!python/object:os.system {}",  # unsafe tag
])
def test_hostile_files_are_refused_cleanly(tmp_path, text):
    root = write_bank(tmp_path)
    (root / "questions" / "q.yaml").write_text(text)
    _bank, problems = check_bank(root)
    assert problems
    for p in problems:
        assert LINE.match(p), p
