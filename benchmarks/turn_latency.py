"""Turn latency: from the candidate's last voiced sample to the final transcript.

Synthesised answers (15 s, 60 s, 180 s of distinct ML sentences spoken by pyttsx3) are fed block by
block through the same capture-to-transcript path the microphone uses (capture.AnswerPipeline:
crash-safe WAV, VAD, end-of-turn policy, streaming transcription), paced at ``--speed`` times real
time and followed by silence until the turn ends by itself. The pauses between sentences stay under
the 0.8 s end-of-turn window (a candidate who keeps talking); ``ended_inside_answer`` counts the
runs whose turn ended before the whole answer was fed (their figures would not be end-of-answer
latencies). For each length it reports the median over ``--repeats`` runs of:

- ``streaming_s``: transcript_final - last_voiced - silence window (the wait the streaming path adds
  after the end of turn is decided);
- ``naive_s``: the same for the naive path, which transcribes the whole answer after the turn ends
  (same model and options): the whole-answer decode time;
- ``ratio``: naive_s / streaming_s;
- ``rtf``: whole-answer decode time / answer length (the model's real-time factor);
- ``stream_rtf``: total decoding the streaming path did during the answer / answer length.

- ``hear_s``: per interviewer voice, what the candidate hears: from the end of the answer (last
  voiced sample) to the first audio sample of the interviewer's next utterance = the silence
  window + ``streaming_s`` + the voice's time to first audio for the next question (measured
  right after the transcript is final; Piper streams its first sentence, espeak-ng renders the
  whole utterance). Choosing the next question (offline engine) takes milliseconds and is not
  added.

Targets (2-core machine, tiny.en int8): streaming_s < 0.5 s at every length and flat (180 s within
1.3x the 15 s figure); hear_s <= the silence window + 0.8 s.
Usage: ``python benchmarks/turn_latency.py [--speed X] [--repeats N] [--json]
[--voices espeak,piper]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mockinterview.speech.capture import AnswerPipeline, CaptureOptions
from mockinterview.speech.listen import AnswerRequest
from mockinterview.speech.stream import StreamOptions
from mockinterview.speech.transcribe import WhisperTranscriber
from mockinterview.testing.answers import synth_answer

SR = 16_000
BLOCK = 512
LENGTHS = (15, 60, 180)


NEXT_QUESTION = ("Thanks. Now, how would you detect data drift in a model that is already in "
                 "production, and what would you do about it?")


def load_voices(names: list[str]) -> dict:
    out = {}
    for n in names:
        if n == "piper":
            from mockinterview.speech.piper import PiperVoice

            out[n] = PiperVoice()  # the product's options: noise on, one thread
        else:
            from mockinterview.speech.speak import INTERVIEWER_VOICE, Pyttsx3Voice

            out[n] = Pyttsx3Voice(INTERVIEWER_VOICE)
        first_audio_s(out[n], work=Path(tempfile.gettempdir()))  # warm up
    return out


def first_audio_s(voice, work: Path) -> float:
    t = time.perf_counter()
    if hasattr(voice, "stream"):
        next(iter(voice.stream(NEXT_QUESTION)))
    else:
        voice.render(NEXT_QUESTION, work / "next.wav")
    return time.perf_counter() - t


def run_once(tr: WhisperTranscriber, audio: np.ndarray, speed: float, work: Path,
             idx: int, voices: dict | None = None, stream: StreamOptions | None = None) -> dict:
    req = AnswerRequest(answer_index=idx, turn_index=idx, prompt_text="benchmark",
                        audio_path=work / f"answer_{idx:03d}.wav", max_s=3600)
    opts = CaptureOptions(enter_ends=False)
    if stream is not None:
        opts.stream = stream
    pipe = AnswerPipeline(req, tr, opts)
    tail = np.zeros(SR * 10, dtype=np.float32)  # silence after the answer: the turn must end
    x = (np.concatenate([audio, tail]) * 32767).astype(np.int16)
    t0 = time.monotonic()
    reason = None
    for i in range(0, x.size, BLOCK):
        due = t0 + (i + BLOCK) / SR / speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        reason = pipe.push(x[i:i + BLOCK], time.monotonic())
        if reason:
            break
    fed_s = min(x.size, i + BLOCK) / SR
    ans = pipe.finish()
    ev = dict(ans.events)
    window = pipe.endpoint.window_s or 0.0
    streaming = ev["transcript_final"] - ev["last_voiced"] - window / speed
    hear = {n: window + max(0.0, streaming) + first_audio_s(v, work)
            for n, v in (voices or {}).items()}
    # naive: transcribe the whole answer after the turn ended, same model and options
    time.sleep(0.2)
    t1 = time.perf_counter()
    tr.transcribe(pipe.stream.audio(), tr.options)
    naive_decode = time.perf_counter() - t1
    return {"reason": reason, "window": window, "streaming_s": max(0.0, streaming),
            "naive_s": naive_decode, "rtf": naive_decode / (audio.size / SR),
            "stream_rtf": pipe.stream.decode_s / (audio.size / SR),
            "answer_s": audio.size / SR, "ended_inside_answer": fed_s < audio.size / SR,
            "hear_s": hear}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, default=1.0, help="times real time (default 1)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per length (median; default 3)")
    ap.add_argument("--lengths", default=",".join(map(str, LENGTHS)),
                    help="answer lengths in seconds (default 15,60,180)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout")
    ap.add_argument("--model", default=None, help="faster-whisper model (default: embedded)")
    ap.add_argument("--pause-commit", action="store_true",
                    help="the experimental commits at pauses (StreamOptions.pause_commit_s=0.5; "
                         "off in the product), for comparison")
    ap.add_argument("--voices", default="espeak,piper",
                    help="interviewer voices for hear_s (piper needs mockinterview[voice]; "
                         "empty: none)")
    args = ap.parse_args()
    err = Console(stderr=True)
    lengths = [float(s) for s in args.lengths.split(",") if s.strip()]
    tr = WhisperTranscriber(args.model)
    names = [v.strip() for v in args.voices.split(",") if v.strip()]
    if "piper" in names:
        from mockinterview.speech.piper import piper_unavailable

        if piper_unavailable():
            err.print(f"piper skipped: {piper_unavailable()}")
            names.remove("piper")
    voices = load_voices(names)
    rows = []
    with tempfile.TemporaryDirectory(prefix="turn-latency-") as d, \
            Progress(console=err, transient=True) as prog:
        work = Path(d)
        task = prog.add_task("synthesising answers", total=len(lengths))
        answers = {}
        for k, n in enumerate(lengths):
            # pauses of 0.1-0.4 s, plus the ~0.33 s of silence espeak ends each sentence with:
            # shorter than the 0.8 s window, so the turn ends after the answer, not inside it
            answers[n], _ = synth_answer(n, work / "tts", seed=100 + k, pause_range=(0.1, 0.4))
            prog.advance(task)
        total = sum(answers[n].size / SR / args.speed + 10 for n in lengths) * args.repeats
        task = prog.add_task(f"feeding at {args.speed:g}x real time (~{total / 60:.0f} min)",
                             total=len(lengths) * args.repeats)
        idx = 0
        for n in lengths:
            runs = []
            for _ in range(args.repeats):
                runs.append(run_once(tr, answers[n], args.speed, work, idx, voices,
                                     StreamOptions(pause_commit_s=0.5) if args.pause_commit
                                     else None))
                idx += 1
                prog.advance(task)
            med = {k: statistics.median(r[k] for r in runs)
                   for k in ("streaming_s", "naive_s", "rtf", "stream_rtf")}
            rows.append({
                "answer_s": round(runs[0]["answer_s"], 1),
                "streaming_s": round(med["streaming_s"], 3),
                "naive_s": round(med["naive_s"], 3),
                "ratio": round(med["naive_s"] / max(med["streaming_s"], 1e-3), 1),
                "rtf": round(med["rtf"], 4),
                "stream_rtf": round(med["stream_rtf"], 4),
                "streaming_runs_s": [round(r["streaming_s"], 3) for r in runs],
                "end_reasons": sorted({r["reason"] or "?" for r in runs}),
                "ended_inside_answer": sum(r["ended_inside_answer"] for r in runs),
                "windows_s": sorted({r["window"] for r in runs}),
                "hear_s": {v: round(statistics.median(r["hear_s"][v] for r in runs), 3)
                           for v in voices},
            })
    out = {"model": tr.name, "speed": args.speed, "repeats": args.repeats, "rows": rows,
           "pause_commit": args.pause_commit}
    if rows:
        first, last = rows[0]["streaming_s"], rows[-1]["streaming_s"]
        out["flat_ratio"] = round(last / max(first, 1e-3), 2)
        out["targets_met"] = all(r["streaming_s"] < 0.5 and not r["ended_inside_answer"]
                                 for r in rows) and \
            (last <= 1.3 * first or last < 0.05)
        out["hear_targets_met"] = {
            v: all(r["hear_s"][v] <= max(r["windows_s"]) + 0.8 for r in rows) for v in voices}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    t = Table(title=f"Turn latency ({tr.name}, {args.speed:g}x real time, median of "
                    f"{args.repeats})")
    for col in ("answer s", "streaming s", "naive s", "ratio", "rtf", "stream rtf", "window s",
                *(f"hear s ({v})" for v in voices)):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(f"{r['answer_s']:.0f}", f"{r['streaming_s']:.3f}", f"{r['naive_s']:.3f}",
                  f"{r['ratio']:.1f}", f"{r['rtf']:.3f}", f"{r['stream_rtf']:.3f}",
                  ",".join(f"{w:g}" for w in r["windows_s"]),
                  *(f"{r['hear_s'][v]:.2f}" for v in voices))
    Console().print(t)
    cut = sum(r["ended_inside_answer"] for r in rows)
    if cut:
        Console().print(f"[red]{cut} run(s) ended inside the answer: their figures are not "
                        "end-of-answer latencies[/red]")
    Console().print(f"streaming 180 s / 15 s: {out.get('flat_ratio')}  "
                    f"targets met: {out.get('targets_met')}  end of answer to first interviewer "
                    f"audio <= window + 0.8 s: {out.get('hear_targets_met')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
