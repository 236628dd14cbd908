"""A whole interview on the LLM engine over real HTTP, with the model server killed mid-interview.

The runner, flow, store and report are the real ones; only the model is the scripted local server.
"""

from __future__ import annotations

import json
import logging
import threading

from mockinterview.clock import SimulatedClock
from mockinterview.config import Config, LLMConfig
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.speech.listen import TextAnswers
from mockinterview.store import load_session
from mockinterview.testing.openai_server import RecordedRequest, ScriptedOpenAIServer, ScriptedReply

MODEL = "scripted-model"
MARKER = "MARKER-sk-5e1f0c9a7b3d2e4f6a8c"
REAL_QUOTE = "we used cross validation to choose the regularisation strength"
FAKE_QUOTE = "I led a team of forty researchers at a famous lab"
ANSWER = ("I would start from the definition and then give an example from my last project. "
          "First, the key idea is to balance bias and variance, because a model that is too "
          "simple underfits while a model that is too flexible overfits the training data. "
          "For example, we used cross validation to choose the regularisation strength, and we "
          "measured precision and recall on a held out test set. The trade-off depends on the "
          "cost of errors, so we talked to the business before choosing a threshold.")
FOLLOW_UP = "You mentioned cross validation. How many folds did you use, and why?"


class ScriptedInterviewModel:
    """Answers each kind of request the interviewer sends; dies after ``live_for`` scores."""

    def __init__(self, live_for: int):
        self.live_for = live_for
        self.scores = 0
        self.server: ScriptedOpenAIServer | None = None
        self.killed = threading.Event()

    def __call__(self, req: RecordedRequest) -> ScriptedReply:
        rf = (req.body or {}).get("response_format") or {}
        name = (rf.get("json_schema") or {}).get("name")
        if name == "question_score":
            self.scores += 1
            if self.scores > self.live_for:
                self.killed.set()
                threading.Thread(target=self.server.stop).start()  # the server dies
                return ScriptedReply.drop()
            ids = rf["json_schema"]["schema"]["properties"]["criteria"]["items"]["properties"][
                "criterion"]["enum"]
            return ScriptedReply.json({"criteria": [
                {"criterion": c, "level": 4, "rationale": "Specific and correct.",
                 "evidence": [REAL_QUOTE, FAKE_QUOTE]} for c in ids],
                "covered": [], "missed": []})
        if name == "feedback":
            return ScriptedReply.json({"summary": "Good.", "strengths": ["a", "b"],
                                       "improvements": ["c", "d"], "next_step": "Practise more.",
                                       "follow_up": {"focus": ["x"], "questions": []}})
        if "NO_FOLLOW_UP" in req.messages[0]["content"]:
            return ScriptedReply.text(FOLLOW_UP, token_delay_s=0.002)
        return ScriptedReply.text("The team is small. It ships every week.")


def test_llm_interview_with_server_killed_midway(recordings, bank, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", MARKER)
    caplog.set_level(logging.DEBUG)
    model = ScriptedInterviewModel(live_for=2)
    with ScriptedOpenAIServer(models=[MODEL], handler=model) as srv:
        model.server = srv
        cfg = Config(llm=LLMConfig(base_url=srv.base_url, model=MODEL, timeout_live_s=2,
                                   timeout_final_s=3, max_retries=1, max_follow_ups=1))
        plan = make_plan(bank, "ml-engineer", "mid", 20, seed=3,
                         sections=["introduction", "technical", "behavioral", "feedback"])
        session, folder = new_session(cfg, plan, "llm", "tiny.en", "text")
        s = run_interview(cfg, session, folder, TextAnswers([ANSWER] * 40),
                          RunOptions(play=False), ui=RecordingUI(), bank=bank,
                          clock=SimulatedClock())
        requests = list(srv.requests)
    assert model.killed.is_set()
    assert s.status == "completed" and load_session(folder) == s
    # model-written follow-ups were asked
    assert any(t.kind == "follow_up" and t.prompt_text == FOLLOW_UP for t in s.turns)
    # the first scores came from the model, with the fabricated quote dropped and counted
    scores = s.latest_scores
    by_model = [x for x in scores if x.engine == f"llm:{MODEL}"]
    offline = [x for x in scores if x.engine == "offline"]
    assert len(by_model) == 2 and offline, [x.engine for x in scores]
    for x in by_model:
        assert x.dropped_quotes == len(x.criteria)
        assert all(c.evidence == [REAL_QUOTE] for c in x.criteria)
    # after the server died, the offline engine finished the interview and said so
    faults = [e for e in s.events if e.kind == "llm_fault"]
    assert faults and all(e.data["fallback"] in ("offline", "plain_json") for e in faults)
    assert any(e.data["call"] == "score" for e in faults)
    assert s.feedback is not None and s.feedback.engine == "offline"
    assert requests[0].headers["authorization"] == f"Bearer {MARKER}"  # the key was really used
    # the key is nowhere: not in any file of the session, not in the log
    for f in folder.rglob("*"):
        if f.is_file():
            assert MARKER.encode() not in f.read_bytes(), f
    assert MARKER not in caplog.text
    assert MARKER not in json.dumps([e.data for e in s.events])
