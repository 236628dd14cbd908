"""How streaming chunking trades transcript quality for the length of the last decode.

Streaming transcription (``mockinterview.speech.stream``) decodes the answer in pieces while the
candidate speaks; the piece left when they stop is what they wait for. Longer pieces and more
pre-roll keep the transcript as good as whole-file decoding but make that last decode slower. This
script runs clips through the streaming path synchronously (every pause is probed, as when the
worker keeps up, so the result is deterministic) under several
:class:`~mockinterview.speech.stream.StreamOptions` and prints, per variant: pooled WER against the
references, the difference to whole-file decoding in points, the per-clip difference in word errors,
and the length of the last decode (what a live answer waits for, before the silence window hides
part of it).

Clips: the four human recordings of ``../shared/speech`` joined by short pauses, and espeak-ng
answers (``EspeakCliVoice``: deterministic) of 60-150 s in four voices and rates.

Usage::

    .venv/bin/python benchmarks/stream_chunking.py [--variants JSON] [--json]

``--variants`` is a JSON list of StreamOptions keyword dicts (default: the shipped 30 s windows,
and 20 s and 10 s windows, i.e. committing shorter pieces for a shorter last decode).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from mockinterview.speech.audio import load_audio
from mockinterview.speech.stream import StreamingTranscriber, StreamOptions
from mockinterview.speech.transcribe import WhisperTranscriber
from mockinterview.speech.vad import FRAME, StreamingVAD
from mockinterview.testing.answers import EspeakCliVoice, synth_answer
from mockinterview.textnorm import wer_counts

SR = 16_000
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"
DEFAULT_VARIANTS = [{}, {"window_s": 20}, {"window_s": 10}]
VOICES = [("en-us", 175, 60), ("en-gb", 160, 60), ("en-us", 190, 60), ("en", 170, 150)]


def clips(work: Path) -> list[tuple[str, np.ndarray, str]]:
    out = []
    manifest = SPEECH / "manifest.tsv"
    if manifest.exists():
        rows = list(csv.DictReader(manifest.open(encoding="utf-8"), delimiter="\t"))
        parts, refs = [], []
        for i, r in enumerate(rows):
            parts += [load_audio(SPEECH / r["file"]),
                      np.zeros(int(SR * (0.5 + 0.23 * i)), dtype=np.float32)]
            refs.append(r["reference"])
        out.append(("human", np.concatenate(parts), " ".join(refs)))
    for seed, (voice, rate, seconds) in enumerate(VOICES, start=1):
        audio, ref = synth_answer(seconds, work, seed=seed, voice=EspeakCliVoice(voice, rate),
                                  pause_range=(0.25, 0.9))
        out.append((f"{voice}@{rate}", audio, ref))
    return out


def stream_once(tr: WhisperTranscriber, audio: np.ndarray, so: StreamOptions) -> tuple[str, float]:
    """The streamed transcript and the wall time of its last decode."""
    vad = StreamingVAD()
    st = StreamingTranscriber(tr, stream_options=so, synchronous=True)
    times: list[float] = []
    decode = st._decode

    def timed(*args):
        t0 = time.perf_counter()
        out = decode(*args)
        times.append(time.perf_counter() - t0)
        return out

    st._decode = timed
    x = np.concatenate([audio, np.zeros(SR, dtype=np.float32)])  # the pause that ends the answer
    for i in range(0, x.size, FRAME):
        block = x[i:i + FRAME]
        st.append(block, vad.feed(block))
    t0 = time.perf_counter()
    final = st.finalize()
    return final.text, max(times[-1] if times else 0.0, time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=None, help="JSON list of StreamOptions keyword dicts")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout")
    args = ap.parse_args()
    variants = json.loads(args.variants) if args.variants else DEFAULT_VARIANTS
    err = Console(stderr=True)
    tr = WhisperTranscriber()
    rows = []
    with tempfile.TemporaryDirectory(prefix="stream-chunking-") as d:
        with err.status("synthesising clips"):
            data = clips(Path(d))
        with err.status("whole-file decoding"):
            whole = {name: wer_counts(ref, tr.transcribe(audio).text) for name, audio, ref in data}
        for v in variants:
            so = StreamOptions(**v)
            errors = whole_errors = words = 0
            per_clip, lasts = {}, []
            with err.status(f"streaming {v or 'shipped options'}"):
                for name, audio, ref in data:
                    text, last = stream_once(tr, audio, so)
                    e, n = wer_counts(ref, text)
                    ew, _ = whole[name]
                    errors, whole_errors, words = errors + e, whole_errors + ew, words + n
                    per_clip[name] = e - ew
                    lasts.append(last)
            rows.append({"variant": v, "options": so.__dict__, "wer": round(errors / words, 4),
                         "whole_wer": round(whole_errors / words, 4),
                         "diff_points": round(100 * (errors - whole_errors) / words, 2),
                         "per_clip_extra_errors": per_clip,
                         "last_decode_s": [round(x, 2) for x in lasts]})
    if args.json:
        print(json.dumps({"model": tr.name, "clips": [n for n, _, _ in data], "rows": rows},
                         indent=2))
        return 0
    t = Table(title=f"Streaming chunking ({tr.name}, {len(data)} clips, synchronous)")
    for col in ("variant", "WER", "whole-file", "diff (points)", "extra errors per clip",
                "last decode s (max)"):
        t.add_column(col)
    for r in rows:
        t.add_row(json.dumps(r["variant"]) if r["variant"] else "shipped", f"{r['wer']:.3f}",
                  f"{r['whole_wer']:.3f}", f"{r['diff_points']:+.1f}",
                  " ".join(f"{k}:{v:+d}" for k, v in r["per_clip_extra_errors"].items()),
                  f"{max(r['last_decode_s']):.2f}")
    Console().print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
