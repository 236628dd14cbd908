"""Session files: round trip, atomic writes, damaged files named in one line."""

from __future__ import annotations

import json

import pytest

from mockinterview.errors import SessionError
from mockinterview.schema import Plan, PlannedSection, Session, Transcript, Turn
from mockinterview.store import find_session, load_session, new_session_dir, save_session


def _session(folder) -> Session:
    plan = Plan(role="ml-engineer", level="mid", minutes=30,
                sections=[PlannedSection(section="technical", budget_s=600,
                                         question_ids=["tech-bias-variance"])])
    s = Session(id=folder.name, plan=plan)
    s.turns.append(Turn(index=0, section="technical", question_id="tech-bias-variance",
                        prompt_text="What is the bias-variance trade-off?",
                        transcript=Transcript(text="Bias is error from wrong assumptions.")))
    return s


def test_session_round_trips_through_the_model(tmp_path):
    folder = new_session_dir(tmp_path, "ml engineer")
    s = _session(folder)
    save_session(s, folder)
    again = load_session(folder)
    assert again == s
    assert json.loads((folder / "session.json").read_text())["schema_version"] == 1


def test_two_sessions_started_together_get_separate_folders(tmp_path):
    a = new_session_dir(tmp_path, "x")
    b = new_session_dir(tmp_path, "x")
    assert a != b and a.is_dir() and b.is_dir()


@pytest.mark.parametrize("content,expected", [
    ('{"schema_version": 1, "id": "x", "pla', "truncated"),
    ("not json", "invalid JSON"),
    ('{"schema_version": 99, "id": "x"}', "schema_version 99"),
    ('{"schema_version": 1, "id": "x"}', "plan"),
    ("[1, 2]", "expected a JSON object"),
])
def test_damaged_session_files_say_what_and_where(tmp_path, content, expected):
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "session.json").write_text(content)
    with pytest.raises(SessionError) as e:
        load_session(folder)
    assert expected in str(e.value)
    assert str(folder / "session.json") in str(e.value)


def test_find_session_by_id_prefix_and_latest(tmp_path):
    a = new_session_dir(tmp_path, "first")
    save_session(_session(a), a)
    assert find_session(tmp_path, a.name) == a
    assert find_session(tmp_path, "latest") == a
    with pytest.raises(SessionError, match="no such session"):
        find_session(tmp_path, "nope")


def test_api_key_never_reaches_session_json(tmp_path, monkeypatch):
    marker = "sk-test-MARKER-4242424242"
    monkeypatch.setenv("OPENAI_API_KEY", marker)
    folder = new_session_dir(tmp_path, "leak")
    s = _session(folder)
    s.turns[0].transcript = Transcript(text=f"my key is {marker}")
    save_session(s, folder)
    assert marker not in (folder / "session.json").read_text()
