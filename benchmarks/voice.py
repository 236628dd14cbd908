"""The interviewer's voices compared: espeak-ng (pyttsx3) and Piper (en_US-joe-medium).

Per voice (printed, not asserted; goals on 2 cores: first audio <= 0.5 s, real-time factor <=
0.15, Piper's WER at most half of espeak's):

- ``load_s``: voice ready to speak (Piper: onnxruntime session; espeak: pyttsx3 engine);
- ``first_audio_s``: text in, first samples out, for a 15-word question (median of 5, after one
  warm-up): Piper streams sentence by sentence, espeak renders the whole utterance;
- ``rtf``: synthesis seconds / audio seconds for a 60-word paragraph;
- ``peak_rss_mb``: the process's peak resident memory after loading the voice and speaking the
  paragraph (each voice measured in its own child process);
- ``wer`` and ``term_recall``: every bank question (``--limit N``: the first N) spoken by the
  voice (deterministic for Piper), framed by silence as a recording is, and transcribed back by
  the bundled tiny.en with the decoder alone (no vocabulary help: the voice's own
  intelligibility); terms are the question's vocabulary words found in its text.

Usage::

    .venv/bin/python benchmarks/voice.py [--json] [--limit N] [--voices espeak,piper]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION_15 = "How would you detect and handle data drift in a model that is already in production?"
PARAGRAPH_60 = (
    "Let's move on to system design. Imagine you are building a recommendation service for an "
    "online store with ten million users. Walk me through the data you would collect, how you "
    "would generate candidates, and how you would rank them. Then tell me how you would "
    "evaluate the system offline, what you would monitor once it is live, and how you would "
    "keep latency under fifty milliseconds.")


def make_voice(name: str):
    if name == "piper":
        from mockinterview.speech.piper import PiperOptions, PiperVoice

        return PiperVoice(PiperOptions.deterministic())
    from mockinterview.speech.speak import INTERVIEWER_VOICE, Pyttsx3Voice

    return Pyttsx3Voice(INTERVIEWER_VOICE)


def speed(name: str) -> dict:
    """Load, first audio, RTF and peak memory for one voice (run in a child process)."""
    import soundfile as sf

    t0 = time.perf_counter()
    voice = make_voice(name)
    with tempfile.TemporaryDirectory() as d:
        if name == "espeak":  # pyttsx3 starts its engine on the first render
            voice.render("Ready.", Path(d) / "warm.wav")
        load_s = time.perf_counter() - t0
        firsts = []
        for i in range(6):
            t = time.perf_counter()
            if hasattr(voice, "stream"):
                next(iter(voice.stream(QUESTION_15)))
            else:
                voice.render(QUESTION_15, Path(d) / f"q{i}.wav")
            if i:  # the first run warms caches
                firsts.append(time.perf_counter() - t)
        t = time.perf_counter()
        out = voice.render(PARAGRAPH_60, Path(d) / "p.wav")
        synth_s = time.perf_counter() - t
        info = sf.info(str(out))
    return {"load_s": round(load_s, 3), "first_audio_s": round(statistics.median(firsts), 3),
            "first_audio_runs_s": [round(x, 3) for x in firsts],
            "rtf": round(synth_s / info.duration, 4), "paragraph_audio_s": round(info.duration, 2),
            "sample_rate": info.samplerate,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def intelligibility(name: str, tr, bank, limit: int = 0, progress=None) -> dict:
    from mockinterview import vocab
    from mockinterview.speech.audio import load_audio
    from mockinterview.speech.piper import as_recorded
    from mockinterview.textnorm import contains_phrase, normalize, wer_counts

    voice = make_voice(name)
    qs = list(bank.questions.values())
    if limit:
        qs = qs[:limit]
    err = ref = hits = terms = 0
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        for i, q in enumerate(qs):
            wav = voice.render(q.text, Path(d) / f"{i}.wav")
            hyp = tr.transcribe(as_recorded(load_audio(wav))).text
            e, n = wer_counts(q.text, hyp)
            err, ref = err + e, ref + n
            words = normalize(q.text)
            qt = [t for t in vocab.question_terms(q, None) if contains_phrase(words, normalize(t))]
            h = normalize(hyp)
            for t in qt:
                ok = contains_phrase(h, normalize(t))
                hits += ok
                terms += 1
                if not ok:
                    missed.append(t)
            if progress:
                progress()
    return {"questions": len(qs), "wer": round(err / max(1, ref), 4),
            "term_recall": round(hits / max(1, terms), 4), "terms": terms,
            "missed_terms": missed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--limit", type=int, default=0, help="only the first N bank questions")
    ap.add_argument("--voices", default="espeak,piper")
    ap.add_argument("--speed-only", dest="speed_only", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.speed_only:
        print(json.dumps(speed(args.speed_only)))
        return 0
    from rich.progress import Progress

    from mockinterview.bank import load_bank
    from mockinterview.speech.transcribe import WhisperTranscriber

    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    bank = load_bank(ROOT / "rubrics")
    tr = WhisperTranscriber()
    rows = []
    n = args.limit or len(bank.questions)
    with Progress(transient=True, disable=args.json) as progress:
        for v in voices:
            progress.console.print(f"{v}: speed (child process)…") if not args.json else None
            r = subprocess.run([sys.executable, __file__, "--speed-only", v], capture_output=True,
                               text=True, timeout=600)
            if r.returncode != 0:
                raise SystemExit(f"{v}: {r.stderr.strip().splitlines()[-1:]}")
            row = {"voice": v, **json.loads(r.stdout.strip().splitlines()[-1])}
            task = progress.add_task(f"{v}: {n} questions", total=n)
            row.update(intelligibility(v, tr, bank, args.limit,
                                       lambda t=task: progress.advance(t)))
            rows.append(row)
    res = {"rows": rows, "model": tr.name, "cores_note": "2 cores shared; figures vary with load",
           "question_15_words": QUESTION_15, "paragraph_60_words": PARAGRAPH_60}
    by = {r["voice"]: r for r in rows}
    if "espeak" in by and "piper" in by:
        res["piper_wer_over_espeak"] = round(by["piper"]["wer"] / max(1e-9, by["espeak"]["wer"]),
                                             3)
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Interviewer voices ({n} bank questions, recogniser {tr.name})")
    for c in ("voice", "load s", "first audio s", "RTF", "peak MB", "WER", "term recall"):
        t.add_column(c, justify="left" if c == "voice" else "right")
    for r in rows:
        t.add_row(r["voice"], f"{r['load_s']:.2f}", f"{r['first_audio_s']:.2f}",
                  f"{r['rtf']:.3f}", f"{r['peak_rss_mb']:.0f}", f"{r['wer']:.1%}",
                  f"{r['term_recall']:.1%} of {r['terms']}")
    Console().print(t)
    Console().print("goals: first audio <= 0.5 s, RTF <= 0.15, Piper's WER <= half espeak's"
                    + (f" (ratio {res['piper_wer_over_espeak']})"
                       if "piper_wer_over_espeak" in res else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
