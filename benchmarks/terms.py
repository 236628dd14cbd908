"""Does the transcript get the candidate's technical words right?

Spoken ML answers written for this project (``benchmarks/terms_answers.yaml``: 31 answers, 292
technical-term occurrences, 6 answers held out from tuning) are synthesised with the project's TTS
(pyttsx3/espeak-ng, the candidate voice, cached in ``~/.cache/mockinterview/terms/``) and
transcribed with the bundled tiny.en in these variants:

- ``plain``: the decoder alone;
- ``hotwords-raw``: faster-whisper's ``hotwords`` filled by :func:`vocab.hotwords_for` (diagnostic:
  shows why biased decoding is never used unguarded);
- ``biased``: the product's biased decoding, plain and hotwords decodings fused
  (:func:`vocab.fuse`);
- ``biased+correction``: what the interview stores as ``text``: that, then the offline
  correction (:func:`vocab.correct`), the acoustic verification (:func:`vocab.verify`, with the
  question's terms and the whole bank's) and the respelling of split terms (:func:`vocab.respell`);
- ``biased+offline-correction``: without the verification (diagnostic);
- ``plain+correction``: the offline correction pass alone (diagnostic).

The vocabulary of each answer comes from the bank question it answers
(:func:`vocab.question_terms`), or the section's common terms when the id is not in the bank;
never from the answer's own term list.
Reported: WER (normalised by :mod:`mockinterview.textnorm`) and technical-term recall (the term's
normalised words found in the normalised transcript), for all answers and for the held-out ones
(written after the correction pass was designed); and the same variants' WER on the real human clips
of ``../shared/speech`` (their manifest holds the references) under three questions' vocabularies,
plus how many words the correction pass changes there with the whole bank's vocabulary.

The candidate speaks with espeak-ng (``--candidate espeak``), the Piper voice (``piper``, the
``mockinterview[voice]`` extra, deterministic, framed by silence as a recording is), or both
(the default): espeak's voice understates what the recogniser does on human speech, so both
voices' plain and shipped (``biased+correction``) rows are reported; the real-speech figures do
not depend on the voice and are computed once.

Usage::

    .venv/bin/python benchmarks/terms.py [--json] [--voice gmw/en] [--rate 165] [--limit N]
                                         [--model base] [--every-question]
                                         [--candidate espeak|piper|both]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml

from mockinterview import vocab
from mockinterview.bank import load_bank
from mockinterview.errors import AudioError
from mockinterview.schema import Transcript
from mockinterview.speech.audio import SAMPLE_RATE, load_audio
from mockinterview.speech.speak import CANDIDATE_VOICE, Pyttsx3Voice
from mockinterview.speech.transcribe import WhisperTranscriber
from mockinterview.textnorm import contains_phrase, normalize, wer_counts

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = Path(__file__).with_name("terms_answers.yaml")
SPEECH = ROOT.parent / "shared" / "speech"
CACHE = Path.home() / ".cache" / "mockinterview" / "terms"
VARIANTS = ("plain", "hotwords-raw", "biased", "biased+correction", "biased+offline-correction",
            "plain+correction")
VERIFY = vocab.VerifyOptions()
REAL_VOCABS = ("tech-decision-tree", "tech-lora-peft", "sd-ml-monitoring")


def candidate_voice(args):
    """The synthetic candidate's voice for ``args.candidate`` (espeak or piper)."""
    if args.candidate == "piper":
        from mockinterview.speech.piper import PiperOptions, PiperVoice

        return PiperVoice(PiperOptions.deterministic())
    return Pyttsx3Voice(args.voice, args.rate)


def synthesise(voice: Pyttsx3Voice, text: str) -> Path:
    """The answer's WAV from the cache, rendered once (keyed by voice, rate and text)."""
    key = hashlib.sha256(f"{voice.voice_id}|{voice.rate}|{text}".encode()).hexdigest()[:16]
    path = CACHE / f"{key}.wav"
    for _attempt in range(3):
        if path.exists():
            return path
        try:
            voice.render(text, path)
        except AudioError:
            # pyttsx3 2.99's espeak driver sometimes returns from runAndWait before the first
            # long utterance of a process is written; a second render succeeds.
            time.sleep(1.0)
    if not path.exists():
        raise SystemExit(f"{ANSWERS}: text-to-speech failed for: {text[:60]}...")
    return path


def variants_for(tr: WhisperTranscriber, audio, terms: list[str],
                 timing: dict[str, float], wider: list[str] = ()) -> dict[str, Transcript]:
    t0 = time.perf_counter()
    plain = tr.transcribe(audio)
    t1 = time.perf_counter()
    hot = vocab.hotwords_for(terms)
    biased_raw = tr.transcribe(audio, replace(tr.options, hotwords=hot or None))
    t2 = time.perf_counter()
    fused = vocab.fuse(plain, biased_raw, terms)
    final = vocab.correct(fused, terms)
    t3 = time.perf_counter()
    verified = vocab.respell(vocab.verify(final, audio, tr.scorer, terms, wider, biased_raw,
                                          VERIFY), terms, wider)
    timing["verify"] = timing.get("verify", 0.0) + (time.perf_counter() - t3)
    timing["plain"] = timing.get("plain", 0.0) + (t1 - t0)
    timing["biased"] = timing.get("biased", 0.0) + (t2 - t1)
    timing["fuse+correct"] = timing.get("fuse+correct", 0.0) + (t3 - t2)
    return {"plain": plain, "hotwords-raw": biased_raw, "biased": fused,
            "biased+correction": verified, "biased+offline-correction": final,
            "plain+correction": vocab.correct(plain, terms)}


def _recall_hits(text: str, terms: list[str]) -> list[bool]:
    hyp = normalize(text)
    return [contains_phrase(hyp, normalize(t)) for t in terms]


def run(args) -> dict:
    from rich.progress import Progress

    data = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))["answers"]
    if args.limit:
        data = data[: args.limit]
    bank = load_bank(ROOT / "rubrics")
    voice = candidate_voice(args)
    tr = WhisperTranscriber(args.model)
    sums = {v: {"err": 0, "ref": 0, "hits": 0, "terms": 0, "ho_hits": 0, "ho_terms": 0,
                "iv_hits": 0, "iv_terms": 0} for v in VARIANTS}
    per_answer = []
    timing: dict[str, float] = {}
    audio_s = 0.0
    fallbacks = []
    with Progress(transient=True, disable=args.json) as progress:
        task = progress.add_task("answers", total=len(data))
        for a in data:
            qid = a.get("question")
            q = bank.questions.get(qid) if qid else None
            if q is None:
                fallbacks.append(qid)
            rubric = bank.sections.get(a["section"])
            terms = vocab.question_terms(q, rubric)
            wav = synthesise(voice, a["text"])
            audio = load_audio(wav)
            if args.candidate == "piper":
                from mockinterview.speech.piper import as_recorded

                audio = as_recorded(audio)
            audio_s += audio.size / SAMPLE_RATE
            outs = variants_for(tr, audio, terms, timing, vocab.bank_terms(bank))
            vocab_set = {tuple(normalize(t)) for t in terms}
            in_vocab = [tuple(normalize(t)) in vocab_set for t in a["terms"]]
            row = {"id": a["id"], "question": qid, "in_bank": q is not None}
            for v, t in outs.items():
                e, n = wer_counts(a["text"], t.text)
                hits = _recall_hits(t.text, a["terms"])
                s = sums[v]
                s["err"] += e
                s["ref"] += n
                s["hits"] += sum(hits)
                s["terms"] += len(hits)
                s["iv_hits"] += sum(h for h, iv in zip(hits, in_vocab, strict=True) if iv)
                s["iv_terms"] += sum(in_vocab)
                if a.get("held_out"):
                    s["ho_hits"] += sum(hits)
                    s["ho_terms"] += len(hits)
                row[v] = {"wer": round(e / max(1, n), 4),
                          "missed": [t_ for t_, h in zip(a["terms"], hits, strict=True) if not h]}
            row["corrections"] = [c.model_dump() for c in outs["biased+correction"].corrections]
            if args.verbose:
                row["texts"] = {v: t.text for v, t in outs.items()}
            per_answer.append(row)
            progress.advance(task)
    rows = []
    for v in VARIANTS:
        s = sums[v]
        rows.append({"variant": v, "wer": round(s["err"] / max(1, s["ref"]), 4),
                     "term_recall": round(s["hits"] / max(1, s["terms"]), 4),
                     "held_out_recall": (round(s["ho_hits"] / s["ho_terms"], 4)
                                         if s["ho_terms"] else None),
                     "in_vocab_recall": round(s["iv_hits"] / max(1, s["iv_terms"]), 4),
                     "terms": s["terms"], "in_vocab_terms": s["iv_terms"]})
    real = real_speech(tr, bank, args.every_question) if getattr(args, "real", True) else {}
    return {"rows": rows, "real_speech": real,
            "answers": len(data), "term_occurrences": sums["plain"]["terms"],
            "held_out_terms": sums["plain"]["ho_terms"],
            "voice": args.voice if args.candidate == "espeak" else voice.voice_id,
            "rate": args.rate if args.candidate == "espeak" else voice.rate, "model": tr.name,
            "rtf": {k: round(v / max(audio_s, 1e-9), 4) for k, v in timing.items()},
            "questions_missing_from_bank": sorted({f for f in fallbacks if f}),
            "per_answer": per_answer}


def real_speech(tr: WhisperTranscriber, bank, every_question: bool = False) -> dict:
    """The variants' WER on real human clips, under several questions' vocabularies."""
    manifest = SPEECH / "manifest.tsv"
    if not manifest.exists():
        return {"error": f"{manifest}: not found"}
    clips = list(csv.DictReader(manifest.open(encoding="utf-8"), delimiter="\t"))
    all_terms = vocab.bank_terms(bank)
    out_rows = []
    worst: dict[str, float] = {}
    changes = 0
    for qid in REAL_VOCABS:
        q = bank.questions.get(qid)
        if q is None:
            continue
        terms = vocab.question_terms(q, bank.sections.get(q.section))
        errs = {v: 0 for v in VARIANTS}
        n_ref = 0
        for c in clips:
            audio = load_audio(SPEECH / c["file"])
            outs = variants_for(tr, audio, terms, {}, vocab.bank_terms(bank))
            for v, t in outs.items():
                e, n = wer_counts(c["reference"], t.text)
                errs[v] += e
            n_ref += n
            changes += len(outs["biased+correction"].corrections)
        for v in VARIANTS:
            w = errs[v] / max(1, n_ref)
            worst[v] = max(worst.get(v, 0.0), w)
            out_rows.append({"vocabulary": qid, "variant": v, "wer": round(w, 4)})
    # the correction pass alone with every term in the bank: it must change nothing here
    bank_wide = 0
    for c in clips:
        t = tr.transcribe(load_audio(SPEECH / c["file"]))
        bank_wide += len(vocab.correct(t, all_terms).corrections)
    res = {"clips": len(clips), "rows": [{"variant": v, "wer": round(worst[v], 4)}
                                          for v in VARIANTS if v in worst],
           "by_vocabulary": out_rows, "changes_with_question_vocab": changes,
           "changes_with_whole_bank_vocab": bank_wide, "bank_terms": len(set(all_terms))}
    if every_question:
        # the offline correction and the verification under every question's vocabulary (the
        # whole bank as wider terms): how often does anything change in real speech?
        runs = changed = 0
        for c in clips:
            audio = load_audio(SPEECH / c["file"])
            plain = tr.transcribe(audio)
            for q in bank.questions.values():
                terms = vocab.question_terms(q, bank.sections.get(q.section))
                out = vocab.verify(vocab.correct(plain, terms), audio, tr.scorer, terms,
                                   all_terms, options=VERIFY)
                runs += 1
                changed += bool(out.corrections)
        res["every_question"] = {"runs": runs, "runs_with_changes": changed}
    return res


def print_table(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(title=f"Technical terms: {res['answers']} synthesised answers, "
                    f"{res['term_occurrences']} term occurrences "
                    f"({res['held_out_terms']} held out), {res['model']}, voice {res['voice']}")
    t.add_column("variant", no_wrap=True)
    t.add_column("WER", justify="right")
    t.add_column("term recall", justify="right")
    t.add_column("held-out recall", justify="right")
    t.add_column("recall, terms in the question's vocabulary", justify="right")
    t.add_column("real speech WER", justify="right")
    real = {r["variant"]: r["wer"] for r in res["real_speech"].get("rows", [])}
    for r in res["rows"]:
        ho = r["held_out_recall"]
        t.add_row(r["variant"], f"{r['wer']:.1%}", f"{r['term_recall']:.1%}",
                  "-" if ho is None else f"{ho:.1%}", f"{r['in_vocab_recall']:.1%}",
                  f"{real[r['variant']]:.1%}" if r["variant"] in real else "-")
    con.print(t)
    con.print(f"{res['rows'][0]['in_vocab_terms']} of the {res['term_occurrences']} term "
              "occurrences are in the vocabulary the bank gives the answered question (biased "
              "decoding and the offline correction act only on those; the verified pass also "
              "proposes the rest of the bank's terms)")
    rows = {r["variant"]: r for r in res["rows"]}
    prod, plain = rows["biased+correction"], rows["plain"]
    real_ok = real.get("biased+correction", 1.0) <= real.get("plain", 0.0)
    con.print(f"targets: term recall >= 95%: {prod['term_recall']:.1%} "
              f"({'met' if prod['term_recall'] >= 0.95 else 'NOT met'}); WER no worse than "
              f"plain: {prod['wer']:.1%} vs {plain['wer']:.1%} "
              f"({'met' if prod['wer'] <= plain['wer'] else 'NOT met'}); real speech no worse: "
              f"{'met' if real_ok else 'NOT met'}")
    rs = res["real_speech"]
    con.print(f"real speech: {rs.get('clips', 0)} clips, worst WER over vocabularies "
              f"{', '.join(REAL_VOCABS)}; words changed by the correction pass: "
              f"{rs.get('changes_with_question_vocab')} (question vocabularies), "
              f"{rs.get('changes_with_whole_bank_vocab')} (all {rs.get('bank_terms')} bank terms)")
    if "every_question" in rs:
        eq = rs["every_question"]
        con.print(f"real speech under every question's vocabulary: {eq['runs_with_changes']} of "
                  f"{eq['runs']} clip x question runs changed anything")
    con.print("real-time factor (processing s / audio s): "
              + ", ".join(f"{k} {v:.3f}" for k, v in res["rtf"].items()))
    if res["questions_missing_from_bank"]:
        con.print("section terms only (question not in the bank): "
                  + ", ".join(res["questions_missing_from_bank"]))
    if res.get("by_candidate_voice"):
        t = Table(title="The same answers by candidate voice (plain and shipped rows)")
        for c in ("candidate voice", "variant", "WER", "term recall", "held-out recall"):
            t.add_column(c, justify="left" if c in ("candidate voice", "variant") else "right")
        for v, rows in res["by_candidate_voice"].items():
            for r in rows:
                ho = r["held_out_recall"]
                t.add_row(v, r["variant"], f"{r['wer']:.1%}", f"{r['term_recall']:.1%}",
                          "-" if ho is None else f"{ho:.1%}")
        con.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--voice", default=CANDIDATE_VOICE, help="espeak-ng voice id")
    ap.add_argument("--rate", type=int, default=165, help="words per minute")
    ap.add_argument("--model", default=None,
                    help="faster-whisper model name or folder (default: the bundled tiny.en)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N answers")
    ap.add_argument("--verbose", action="store_true", help="include every variant's text")
    ap.add_argument("--question-bonus", type=float, default=None,
                    help="override VerifyOptions.question_bonus (nats)")
    ap.add_argument("--margin", type=float, default=None, help="override VerifyOptions.margin")
    ap.add_argument("--max-candidates", type=int, default=None,
                    help="override VerifyOptions.max_candidates")
    ap.add_argument("--every-question", action="store_true",
                    help="also verify the real clips under every bank question's vocabulary "
                         "(about 6 minutes)")
    ap.add_argument("--table-from", type=Path, help="print the table of a saved --json result")
    ap.add_argument("--candidate", choices=("espeak", "piper", "both"), default="both",
                    help="the synthetic candidate's voice (piper needs mockinterview[voice])")
    args = ap.parse_args(argv)
    if args.table_from:
        print_table(json.loads(args.table_from.read_text(encoding="utf-8")))
        return 0
    global VERIFY
    changes = {k: v for k, v in (("question_bonus", args.question_bonus),
                                 ("margin", args.margin),
                                 ("max_candidates", args.max_candidates)) if v is not None}
    VERIFY = replace(VERIFY, **changes)
    both = args.candidate == "both"
    if both:
        args.candidate = "espeak"
    res = run(args)
    if both:
        shown = ("plain", "biased+correction")
        by = {"espeak": [r for r in res["rows"] if r["variant"] in shown]}
        args.candidate, args.real = "piper", False
        piper = run(args)
        by["piper"] = [r for r in piper["rows"] if r["variant"] in shown]
        res["by_candidate_voice"] = by
        res["piper_per_answer"] = piper["per_answer"]
    res["verify_options"] = VERIFY.__dict__.copy()
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
