"""How much a job description moves the plan (issue 19).

For each job description in ``tests/data/jobs`` (role and level in ``jobs.yaml``; ``tune/`` was
used while tuning ``session/tailor.py``, ``heldout/`` never was), over several seeds:

- **on-topic share**: the share of the plan's technical and system-design questions whose key terms
  occur in the job text, for the tailored plan and for the role-only plan of the same role and
  level. A question's key terms here are its topics and its key points' phrasings of up to four
  words; one "occurs" when it is found as whole words in the job text (case-insensitive, "-" and
  " " alike, no stemming). A single everyday English word ("latency", "metrics") counts only when
  it is one of the question's topics. ``strict`` asks for two different key terms.
- **job topics covered**: of the job's main terms (from its requirements, as read by the
  tailoring), how many the plan's technical, design and coding questions cover.
- **plan difference**: for two jobs of the same role (both planned at level mid), the Jaccard
  distance between their technical and system-design question sets; the role-only plan's
  distance between two seeds is printed beside it for scale, and the tailored plan's own
  distance between two seeds of the same job (how much of the difference is noise).

Usage: ``python benchmarks/tailoring.py [--minutes 45] [--seeds 5] [--json]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from itertools import combinations
from pathlib import Path
from statistics import mean

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mockinterview.bank import load_bank  # noqa: E402
from mockinterview.session.jobfile import read_document  # noqa: E402
from mockinterview.session.plan import make_plan  # noqa: E402
from mockinterview.session.tailor import _has, bank_vocabulary, tailored_plan  # noqa: E402
from mockinterview.vocab.words import is_common  # noqa: E402

JOBS = ROOT / "tests" / "data" / "jobs"
ASKED = ("technical", "system_design")


def _pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", term.strip().lower()) if w]
    return re.compile(r"(?<![\w])" + r"[\s\-]+".join(words) + r"(?![\w])")


def key_terms(q) -> list[str]:
    out = [t.replace("-", " ") for t in q.topics]
    for kp in q.key_points:
        for p in kp.phrasings:
            words = p.split()
            if not 1 <= len(words) <= 4:
                continue
            if len(words) == 1 and (is_common(p.lower()) or len(p) < 3):
                continue
            out.append(p)
    return out


def on_topic(q, job_lower: str, need: int = 1) -> bool:
    hits = {t.lower() for t in key_terms(q) if _pattern(t).search(job_lower)}
    return len(hits) >= need


def asked_ids(plan) -> list[str]:
    return [qid for ps in plan.sections if ps.section in ASKED for qid in ps.question_ids]


def covered_main(bank, plan, reading) -> int:
    vocab = bank_vocabulary(bank)
    keys = set()
    for ps in plan.sections:
        if ps.section in ASKED + ("coding",):
            for qid in ps.question_ids:
                keys |= vocab.by_question.get(qid, set())
    mains = [t for t in reading.terms if t.main]
    return sum(1 for t in mains if _has(keys, reading.keys[t.term]))


def jaccard_distance(a: set[str], b: set[str]) -> float:
    return 1 - len(a & b) / len(a | b) if a | b else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=45)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    bank = load_bank(ROOT / "rubrics")
    meta = yaml.safe_load((JOBS / "jobs.yaml").read_text())["jobs"]
    seeds = list(range(a.seeds))
    rows = []
    for rel, m in meta.items():
        doc = read_document(JOBS / rel)
        low = doc.text.lower()
        t_share, r_share, t_strict, r_strict, t_cov, r_cov, n_q = [], [], [], [], [], [], []
        n_main = 0
        for seed in seeds:
            tp = tailored_plan(bank, m["role"], m["level"], a.minutes, doc.text, seed=seed)
            rp = make_plan(bank, m["role"], m["level"], a.minutes, seed=seed)
            tq = [bank.question(i) for i in asked_ids(tp.plan)]
            rq = [bank.question(i) for i in asked_ids(rp)]
            t_share.append(mean(on_topic(q, low) for q in tq) if tq else 0.0)
            r_share.append(mean(on_topic(q, low) for q in rq) if rq else 0.0)
            t_strict.append(mean(on_topic(q, low, 2) for q in tq) if tq else 0.0)
            r_strict.append(mean(on_topic(q, low, 2) for q in rq) if rq else 0.0)
            n_main = sum(1 for t in tp.reading.terms if t.main) if tp.reading else 0
            t_cov.append(covered_main(bank, tp.plan, tp.reading) if tp.reading else 0)
            r_cov.append(covered_main(bank, rp, tp.reading) if tp.reading else 0)
            n_q.append(len(tq))
        rows.append({"job": rel, "split": rel.split("/")[0], "role": m["role"],
                     "level": m["level"], "questions": mean(n_q),
                     "tailored_share": mean(t_share), "role_only_share": mean(r_share),
                     "tailored_strict": mean(t_strict), "role_only_strict": mean(r_strict),
                     "main_terms": n_main, "tailored_covered": mean(t_cov),
                     "role_only_covered": mean(r_cov)})
    pairs = []
    for split in ("tune", "heldout"):
        jobs = [(rel, m) for rel, m in meta.items() if rel.startswith(split + "/")]
        for (ra, ma), (rb, mb) in combinations(jobs, 2):
            if ma["role"] != mb["role"]:
                continue
            ta = tailored_plan(bank, ma["role"], "mid", a.minutes,
                               read_document(JOBS / ra).text, seed=0)
            tb = tailored_plan(bank, mb["role"], "mid", a.minutes,
                               read_document(JOBS / rb).text, seed=0)
            d_t = jaccard_distance(set(asked_ids(ta.plan)), set(asked_ids(tb.plan)))
            d_r = mean(jaccard_distance(set(asked_ids(make_plan(bank, ma["role"], "mid",
                                                                a.minutes, seed=s))),
                                        set(asked_ids(make_plan(bank, ma["role"], "mid",
                                                                a.minutes, seed=s + 100))))
                       for s in seeds)
            # the same job planned with two seeds: how much of a difference is noise
            d_same = mean(jaccard_distance(
                set(asked_ids(tailored_plan(bank, m["role"], "mid", a.minutes, text,
                                            seed=s).plan)),
                set(asked_ids(tailored_plan(bank, m["role"], "mid", a.minutes, text,
                                            seed=s + 100).plan)))
                for s in seeds for text in (read_document(JOBS / ra).text,
                                            read_document(JOBS / rb).text) for m in (ma,))
            pairs.append({"split": split, "a": ra, "b": rb, "role": ma["role"],
                          "tailored_distance": d_t, "tailored_same_job_seed_distance": d_same,
                          "role_only_seed_distance": d_r})
    summary = {}
    for split in ("tune", "heldout"):
        rs = [r for r in rows if r["split"] == split]
        ps = [p for p in pairs if p["split"] == split]
        summary[split] = {
            "jobs": len(rs),
            "tailored_share": mean(r["tailored_share"] for r in rs),
            "role_only_share": mean(r["role_only_share"] for r in rs),
            "tailored_strict": mean(r["tailored_strict"] for r in rs),
            "role_only_strict": mean(r["role_only_strict"] for r in rs),
            "tailored_covered": mean(r["tailored_covered"] / max(1, r["main_terms"]) for r in rs),
            "role_only_covered": mean(r["role_only_covered"] / max(1, r["main_terms"])
                                      for r in rs),
            "pair_distance": mean(p["tailored_distance"] for p in ps) if ps else None,
        }
    if a.json:
        print(json.dumps({"minutes": a.minutes, "seeds": len(seeds), "jobs": rows,
                          "pairs": pairs, "summary": summary}, indent=2))
        return
    print(f"Tailored vs role-only plans, {a.minutes} min, mean over {len(seeds)} seeds; "
          "share = technical+design questions whose key terms occur in the job text")
    head = (f"{'job':28} {'role':15} {'n':>4} {'share T':>8} {'share R':>8} {'strict T':>9} "
            f"{'strict R':>9} {'covered T':>10} {'covered R':>10}")
    for split in ("tune", "heldout"):
        print(f"\n[{split}]")
        print(head)
        for r in (x for x in rows if x["split"] == split):
            print(f"{r['job']:28} {r['role']:15} {r['questions']:4.1f} "
                  f"{r['tailored_share']:8.0%} {r['role_only_share']:8.0%} "
                  f"{r['tailored_strict']:9.0%} {r['role_only_strict']:9.0%} "
                  f"{r['tailored_covered']:5.1f}/{r['main_terms']:<4d} "
                  f"{r['role_only_covered']:5.1f}/{r['main_terms']:<4d}")
        s = summary[split]
        print(f"{'mean':28} {'':15} {'':4} {s['tailored_share']:8.0%} {s['role_only_share']:8.0%} "
              f"{s['tailored_strict']:9.0%} {s['role_only_strict']:9.0%} "
              f"{s['tailored_covered']:9.0%}  {s['role_only_covered']:9.0%}")
        for p in (x for x in pairs if x["split"] == split):
            print(f"plan difference {p['a']} vs {p['b']}: Jaccard distance "
                  f"{p['tailored_distance']:.2f} (same job, two seeds: "
                  f"{p['tailored_same_job_seed_distance']:.2f}; role-only plan, two seeds: "
                  f"{p['role_only_seed_distance']:.2f})")


if __name__ == "__main__":
    main()
