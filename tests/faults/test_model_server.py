"""Every model-server fault of the LLM engine, one interview each: it always finishes.

The interview is the real runner + flow + LLM brain, talking real HTTP through the ``openai``
client to the scripted server (testing/openai_server.py), which plays the canned interviewer
except for the first requests, which get the fault. Each run must end ``completed`` with the fault
recorded as an ``llm_fault`` event in session.json (see interviewer/llm.py: LLMBrain._report).
"""

from __future__ import annotations

import socket
import threading

import pytest

from mockinterview.clock import SimulatedClock
from mockinterview.config import load_config
from mockinterview.runner import RunOptions, new_session, run_interview
from mockinterview.session.flow import RecordingUI
from mockinterview.session.plan import make_plan
from mockinterview.speech.listen import TextAnswers
from mockinterview.store import load_session
from mockinterview.testing.openai_server import (
    RecordedRequest,
    ScriptedOpenAIServer,
    ScriptedReply,
    canned_interviewer,
)

from .common import TYPED_ANSWER
from .ledger import record

MODEL = "scripted-model"
SPOKEN = "You said the metric comes first. Which metric did you choose, and why that one?"

F = {  # fault -> (reply, fault kinds the brain may record for it)
    "timeout": (lambda: ScriptedReply.hang(3.0), {"timeout"}),
    "429 + Retry-After": (lambda: ScriptedReply.rate_limited(0.2), {"rate_limited"}),
    "500": (lambda: ScriptedReply.server_error(500), {"server_error"}),
    "503": (lambda: ScriptedReply.server_error(503), {"server_error"}),
    "dropped connection": (ScriptedReply.drop, {"connection", "server_down"}),
    "malformed JSON": (ScriptedReply.malformed_json, {"malformed_response", "malformed_json"}),
    "truncated JSON": (ScriptedReply.truncated_json, {"malformed_response", "malformed_json"}),
    "empty content": (ScriptedReply.empty, {"empty"}),
    "refusal": (ScriptedReply.refusal_reply, {"refusal"}),
    "context too long": (ScriptedReply.context_too_long, {"context_too_long"}),
    "stream cut mid-sentence": (lambda: ScriptedReply.cut_stream(SPOKEN, cut_at=30),
                                {"stream_truncated", "connection"}),
    "stream ends without finish": (lambda: ScriptedReply.stream_without_finish(SPOKEN, 30),
                                   {"stream_truncated"}),
}
# Each interview injects one fault into every call of each kind: the spoken follow-up (streamed),
# the rubric score (JSON), the final feedback (JSON). Together the rows cover every fault.
MATRIX = [
    ("timeout", "429 + Retry-After", "500"),
    ("stream cut mid-sentence", "malformed JSON", "503"),
    ("stream ends without finish", "truncated JSON", "empty content"),
    ("dropped connection", "refusal", "context too long"),
]
CALLS = ("follow_up", "score", "feedback")


def _call_of(req: RecordedRequest) -> str:
    rf = (req.body or {}).get("response_format") or {}
    name = (rf.get("json_schema") or {}).get("name") if isinstance(rf, dict) else None
    if name == "question_score":
        return "score"
    if name == "feedback":
        return "feedback"
    system = req.messages[0].get("content", "") if req.messages else ""
    if '"criteria"' in system:
        return "score"
    if '"strengths"' in system:
        return "feedback"
    return "follow_up" if "NO_FOLLOW_UP" in system else "answer_candidate"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _interview(bank, base_url: str, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("MOCKINTERVIEW_LLM_MODEL", MODEL)
    monkeypatch.setenv("MOCKINTERVIEW_CONFIG", "/nonexistent/mockinterview.toml")
    cfg = load_config()
    cfg.llm.timeout_live_s = 0.6
    cfg.llm.timeout_final_s = 1.0
    cfg.llm.max_retries = 1
    cfg.llm.max_follow_ups = 1
    plan = make_plan(bank, "ml-engineer", "mid", 10, seed=2,
                     sections=["introduction", "technical", "feedback"])
    session, folder = new_session(cfg, plan, "llm", "tiny.en", "text")
    s = run_interview(cfg, session, folder, TextAnswers([TYPED_ANSWER] * 30),
                      RunOptions(engine="llm", play=False), ui=RecordingUI(), bank=bank,
                      clock=SimulatedClock())
    return s, folder


def _check(name: str, s, folder, expect: dict[str, set[str]] | None) -> None:
    """``expect``: call -> acceptable fault kinds (None: any recorded fault will do)."""
    saved = load_session(folder)
    faults = [(e.data.get("call"), e.data.get("fault")) for e in saved.events
              if e.kind == "llm_fault"]
    done = saved.status == "completed" and saved.feedback is not None and saved == s
    misses = [f"{call}: expected one of {sorted(kinds)}" for call, kinds in (expect or {}).items()
              if not any(c == call and k in kinds for c, k in faults)]
    ok = done and bool(faults) and not misses
    record("model server", ok, injected=len(expect) if expect else 1,
           note=f"{name}: status {saved.status}, recorded {faults}, missing {misses}")
    assert done, f"{name}: status {saved.status}"
    assert faults, f"{name}: no llm_fault event in session.json"
    assert not misses, f"{name}: recorded {faults}; {misses}"


@pytest.mark.parametrize("row", MATRIX, ids=[" / ".join(r) for r in MATRIX])
def test_faults_in_every_call_interview_finishes(row, recordings, bank, monkeypatch):
    replies = dict(zip(CALLS, row, strict=True))

    def handler(req: RecordedRequest) -> ScriptedReply:
        fault = replies.get(_call_of(req))
        return F[fault][0]() if fault else canned_interviewer(req)

    with ScriptedOpenAIServer(models=[MODEL], handler=handler) as srv:
        s, folder = _interview(bank, srv.base_url, monkeypatch)
        seen = {_call_of(r) for r in srv.chat_requests()}
    assert set(CALLS) <= seen, f"the interview made no {set(CALLS) - seen} call"
    _check(" / ".join(row), s, folder, {c: F[f][1] for c, f in replies.items()})


def test_refused_connection_interview_finishes(recordings, bank, monkeypatch):
    s, folder = _interview(bank, f"http://127.0.0.1:{_free_port()}/v1", monkeypatch)
    _check("refused connection", s, folder, {c: {"connection", "server_down"} for c in CALLS})


def test_server_killed_mid_interview_interview_finishes(recordings, bank, monkeypatch):
    count = 0
    srv = ScriptedOpenAIServer(models=[MODEL])

    def handler(req: RecordedRequest) -> ScriptedReply:
        nonlocal count
        count += 1
        if count == 3:
            threading.Thread(target=srv.stop).start()
            return ScriptedReply.drop()
        return canned_interviewer(req)

    srv.handler = handler
    with srv:
        s, folder = _interview(bank, srv.base_url, monkeypatch)
    assert count >= 3, "the server was never killed"
    _check("server killed mid-interview", s, folder, None)
