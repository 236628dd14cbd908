"""How long report.html and feedback.md take to render, and how big the page gets.

A long interview (default 40 turns of 400 words: about 90 minutes of speech) is generated as a
session.json with word timestamps, scores and evidence; the report is written several times and
the median time is printed. Usage: ``python benchmarks/report_render.py [--turns N] [--words N]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mockinterview.review.report import write_feedback_md, write_report
from mockinterview.schema import (
    CriterionScore,
    Delivery,
    Plan,
    PlannedSection,
    QuestionScore,
    ScoringRun,
    Segment,
    Session,
    Transcript,
    Turn,
    Word,
)
from mockinterview.store import save_session

VOCAB = ("the model overfits when variance dominates so we regularize with weight decay and "
         "early stopping then validate on a held out split measuring precision recall and "
         "calibration before shipping").split()


def make_session(folder: Path, turns: int, words: int, seed: int = 7) -> Session:
    rng = random.Random(seed)
    out, scores = [], []
    for i in range(turns):
        t, ws = 0.0, []
        for _ in range(words):
            d = rng.uniform(0.15, 0.45)
            ws.append(Word(word=rng.choice(VOCAB), start=round(t, 3), end=round(t + d, 3)))
            t += d + rng.uniform(0.0, 0.3)
        segs = [Segment(start=ws[k].start, end=ws[min(k + 29, len(ws) - 1)].end,
                        text=" ".join(w.word for w in ws[k:k + 30]), words=ws[k:k + 30])
                for k in range(0, len(ws), 30)]
        text = " ".join(w.word for w in ws)
        qid = f"q{i // 2}"
        out.append(Turn(index=i, section="technical", question_id=qid,
                        kind="question" if i % 2 == 0 else "follow_up", prompt_text=f"Q{i}?",
                        transcript=Transcript(text=text, segments=segs, duration_s=t),
                        delivery=Delivery(duration_s=t, words=words, wpm=words * 60 / t,
                                          pace=[rng.uniform(90, 190) for _ in range(int(t / 5))])))
        if i % 2 == 1:
            scores.append(QuestionScore(
                question_id=qid, section="technical", overall=3.0,
                criteria=[CriterionScore(criterion=c, level=3, rationale="r" * 200,
                                         evidence=[" ".join(w.word for w in ws[j:j + 6])
                                                   for j in (10, 100, 200)])
                          for c in ("correctness", "depth", "structure", "communication")]))
    s = Session(id=folder.name, status="completed",
                plan=Plan(role="ml-engineer", level="senior", minutes=90,
                          sections=[PlannedSection(section="technical", budget_s=5400)]),
                turns=out, scoring_runs=[ScoringRun(id="r", engine="offline", scores=scores)])
    save_session(s, folder)
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=40)
    ap.add_argument("--words", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "bench"
        folder.mkdir()
        make_session(folder, a.turns, a.words)
        html_t, md_t = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            html = write_report(folder)
            t1 = time.perf_counter()
            write_feedback_md(folder)
            t2 = time.perf_counter()
            html_t.append(t1 - t0)
            md_t.append(t2 - t1)
        result = {"turns": a.turns, "words_per_turn": a.words,
                  "report_s_median": round(statistics.median(html_t), 4),
                  "feedback_md_s_median": round(statistics.median(md_t), 4),
                  "report_bytes": html.stat().st_size,
                  "session_json_bytes": (folder / "session.json").stat().st_size}
    if a.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
