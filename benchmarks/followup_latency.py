"""Follow-up latency: time from the end of the candidate's answer to the first complete sentence of
the interviewer's follow-up (what the flow speaks first), streaming vs non-streaming.

Runs the real LLMBrain and the real ``openai`` client against the local scripted server with a
fixed artificial generation time per token, so the numbers measure our pipeline (HTTP, SSE parsing,
sentence splitting), not a model. Usage::

    .venv/bin/python benchmarks/followup_latency.py [--token-delay 0.03] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from mockinterview.config import Config, LLMConfig
from mockinterview.interviewer.base import AnswerContext
from mockinterview.interviewer.client import LLMOptions
from mockinterview.interviewer.llm import LLMBrain
from mockinterview.schema import Criterion, KeyPoint, Question, SectionRubric
from mockinterview.testing.openai_server import ScriptedOpenAIServer, ScriptedReply

FOLLOW_UP = ("You said you picked k-means for the customer segments. "
             "What made you choose five clusters rather than letting the data decide, and how "
             "did you check that the segments were stable from one month to the next? "
             "Walk me through the metric you used and what you would do differently today.")

QUESTION = Question(
    id="bench-q", section="technical", text="Tell me about a clustering project you ran.",
    roles=["ml-engineer"], levels=["mid"],
    key_points=[KeyPoint(id="choice", point="Justifies the algorithm and the number of clusters.")])
RUBRIC = SectionRubric(section="technical", title="Technical", criteria=[
    Criterion(id="depth", name="Depth", weight=1.0, measure="depth",
              levels={i: f"level {i}" for i in range(1, 6)})])
ANSWER = ("I segmented our customers with k-means on purchase frequency and basket size, picked "
          "five clusters, and the marketing team used them for campaigns.")


def measure(brain: LLMBrain, srv: ScriptedOpenAIServer, runs: int) -> dict[str, float]:
    first, whole = [], []
    for _ in range(runs):
        srv.script(ScriptedReply.text(FOLLOW_UP))
        ctx = AnswerContext(question=QUESTION, rubric=RUBRIC, answers=[ANSWER], max_follow_ups=1,
                            remaining_s=900, section_remaining_s=300)
        t0 = time.perf_counter()  # the end of the candidate's answer
        t_first = None
        n = 0
        for _sentence in brain.follow_up(ctx):
            n += 1
            if t_first is None:
                t_first = time.perf_counter() - t0
        whole.append(time.perf_counter() - t0)
        if t_first is None or n != 3 or brain.faults:
            raise SystemExit(f"benchmark run failed: {n} sentences, faults {brain.faults}")
        first.append(t_first)
    return {"first_sentence_s": statistics.median(first), "whole_reply_s": statistics.median(whole)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--token-delay", type=float, default=0.03,
                    help="artificial generation time per token, seconds (default 0.03)")
    ap.add_argument("--runs", type=int, default=5, help="runs per mode; the median is shown")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    out: dict[str, object] = {"token_delay_s": a.token_delay, "runs": a.runs,
                              "reply_tokens": len(FOLLOW_UP.split())}
    with ScriptedOpenAIServer(models=["bench-model"], token_delay_s=a.token_delay) as srv:
        cfg = Config(llm=LLMConfig(base_url=srv.base_url, model="bench-model", timeout_live_s=30,
                                   max_retries=0))
        for mode, stream in (("streaming", True), ("non_streaming", False)):
            brain = LLMBrain(cfg, options=LLMOptions(stream_follow_ups=stream))
            out[mode] = measure(brain, srv, a.runs)
    s_first = out["streaming"]["first_sentence_s"]  # type: ignore[index]
    n_first = out["non_streaming"]["first_sentence_s"]  # type: ignore[index]
    out["ratio_non_streaming_over_streaming"] = n_first / s_first
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"follow-up of {out['reply_tokens']} words, {a.token_delay * 1000:.0f} ms per token, "
          f"median of {a.runs} runs")
    for mode in ("streaming", "non_streaming"):
        m = out[mode]
        print(f"  {mode:14s} first sentence after {m['first_sentence_s'] * 1000:7.0f} ms   "  # type: ignore[index]
              f"whole reply after {m['whole_reply_s'] * 1000:7.0f} ms")  # type: ignore[index]
    print(f"  the candidate waits {out['ratio_non_streaming_over_streaming']:.1f}x less with "
          "streaming")


if __name__ == "__main__":
    sys.exit(main())
