"""Streaming transcription: decode the answer while the candidate is still speaking.

Why: transcribing a 3-minute answer after it ends takes seconds on this CPU, and the interviewer
would sit silent meanwhile. Here a background worker commits text as the answer grows, so when the
turn ends only the last few seconds remain, and those are usually decoded already during the silence
window that ends the turn.

How (chunk-at-pause):

- The audio is cut only inside pauses the VAD found, so no word is ever split between two decodes;
  a chunk is decoded once, with the same model and options as whole-file decoding, and its
  segments are shifted to answer time with ``offset_s``.
- Whenever the candidate pauses for ``probe_after_s``, the worker decodes the uncommitted tail up to
  that point (a *probe*). If the tail is at least ``commit_min_s`` long the probe is committed for
  good (the cut lies in the pause); otherwise it is kept as a speculative result that becomes the
  final tail if the candidate says nothing more. The probe's text also feeds the end-of-turn policy
  (a complete thought ends the turn sooner).
- Every decode starts ``preroll_s`` before its cut with already-committed audio as acoustic
  context and drops the words whose midpoint lies before the cut (word timestamps): a chunk that
  starts cold loses words and grows repetition loops on tiny.en.
- If the candidate speaks ``max_chunk_s`` without a pause the worker cuts at the least speech-like
  frame, so a chunk never reaches Whisper's 30 s window.

The final transcript is the committed chunks plus the tail; on real speech its WER matches
whole-file decoding (see tests/test_stream.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .models import Segment, Transcript
from .transcribe import TranscribeOptions, WhisperTranscriber
from .vad import FRAME

SR = 16_000


@dataclass
class StreamOptions:
    """When to decode while the candidate speaks (seconds of audio).

    - ``probe_after_s=0.2``: a pause this long triggers a decode of the tail; short enough that the
      text is ready well inside the 0.8 s end-of-turn window, long enough to skip gaps between words.
    - ``commit_min_s=10``: a tail at least this long is committed at the pause. Shorter chunks give
      Whisper too little context; longer ones make the final decode slower.
    - ``preroll_s=15``: each decode also sees this much already-committed audio before its start
      (its words are dropped again by timestamp), so chunk plus context is close to the 30 s
      window whole-file decoding sees. Measured with tiny.en int8 on synthetic 60 s answers
      (tests/test_stream.py builds the same kind): without pre-roll, 6 s chunks cost +4.7 WER
      points against whole-file decoding; pooled over four answers, 10 s chunks with 10 s
      pre-roll gave +0.2 points and with 15 s pre-roll -1.1 points (the encoder's cost is fixed
      per call, so the extra context is cheap).
    """

    probe_after_s: float = 0.2
    commit_min_s: float = 10.0
    max_chunk_s: float = 20.0
    min_tail_s: float = 0.3
    preroll_s: float = 15.0


@dataclass
class _Decoded:
    start: int  # sample index the decode began at (the committed point then)
    end: int  # sample index it ended at
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()


class StreamingTranscriber:
    """Grows with the answer (``append``), decodes in a background thread, ``finalize`` at the end.

    One instance per answer. Thread-safe between one producer (the capture loop) and its worker.
    """

    def __init__(self, transcriber: WhisperTranscriber, options: TranscribeOptions | None = None,
                 stream_options: StreamOptions | None = None, synchronous: bool = False):
        self.synchronous = synchronous  # decode inline in append(): deterministic, for tests
        self.transcriber = transcriber
        self.options = options or transcriber.options
        self.so = stream_options or StreamOptions()
        self._audio = np.zeros(SR * 30, dtype=np.float32)
        self._n = 0  # samples held
        self._flags: list[bool] = []  # VAD decision per 512-sample frame
        self._probs: list[float] = []
        self._committed = 0  # samples decoded for good
        self._segments: list[Segment] = []
        self._spec: _Decoded | None = None  # speculative tail decode
        self._probed_voiced = -1  # last voiced frame index covered by the latest probe
        self._cv = threading.Condition()
        self._busy = False
        self._closed = False
        self.decode_s = 0.0  # wall time spent decoding (for the real-time factor)
        self.decodes = 0
        self.errors: list[str] = []
        self._worker = threading.Thread(target=self._run, name="stream-stt", daemon=True)
        if not synchronous:
            self._worker.start()

    # ------------------------------------------------------------------ producer side
    def append(self, samples: np.ndarray, frames: list[tuple[float, bool]]) -> None:
        """Add float32 samples and the VAD decisions of the frames they completed."""
        x = samples.astype(np.float32, copy=False).reshape(-1)
        with self._cv:
            need = self._n + x.size
            if need > self._audio.size:
                grown = np.zeros(max(need, self._audio.size * 2), dtype=np.float32)
                grown[:self._n] = self._audio[:self._n]
                self._audio = grown
            self._audio[self._n:need] = x
            self._n = need
            for p, s in frames:
                self._probs.append(p)
                self._flags.append(s)
            self._cv.notify()
        while self.synchronous and (job := self._next_job_locked()) is not None:
            self._do(job)

    def _next_job_locked(self) -> tuple[str, int, int] | None:
        with self._cv:
            return self._next_job()

    def latest(self) -> tuple[str, float]:
        """(text of the whole answer as known now, audio time in seconds it covers up to)."""
        with self._cv:
            return self._text_locked()

    def _text_locked(self) -> tuple[str, float]:
        parts = [s.text for s in self._segments if s.text]
        until = self._committed / SR
        if self._spec is not None and self._spec.start == self._committed:
            parts.append(self._spec.text)
            until = self._spec.end / SR
        return " ".join(p for p in parts if p).strip(), until

    # ------------------------------------------------------------------ worker side
    def _last_voiced_frame(self) -> int:
        for i in range(len(self._flags) - 1, -1, -1):
            if self._flags[i]:
                return i
        return -1

    def _next_job(self) -> tuple[str, int, int] | None:
        c, n = self._committed, min(self._n, len(self._flags) * FRAME)
        if n - c < self.so.min_tail_s * SR:
            return None
        lv = self._last_voiced_frame()
        first = c // FRAME
        if lv < first:
            return None  # only silence since the last commit
        trailing = len(self._flags) - 1 - lv
        if trailing * FRAME >= self.so.probe_after_s * SR and lv != self._probed_voiced:
            return ("probe", c, n)
        if n - c >= self.so.max_chunk_s * SR:
            lo = first + int(self.so.max_chunk_s * SR / FRAME / 2)
            hi = len(self._flags) - 1
            if hi > lo:
                k = lo + int(np.argmin(self._probs[lo:hi]))
                return ("commit", c, (k * FRAME) + FRAME // 2)
        return None

    def _run(self) -> None:
        while True:
            with self._cv:
                job = None
                while not self._closed and (job := self._next_job()) is None:
                    self._cv.wait(timeout=0.5)
                if self._closed:
                    return
            self._do(job)

    def _do(self, job: tuple[str, int, int]) -> None:
        """Decode one job outside the lock and store its result (commit or speculative tail)."""
        kind, start, end = job
        with self._cv:
            if kind == "probe":
                self._probed_voiced = self._last_voiced_frame()
            pre = self._preroll(start, end)
            audio = self._audio[start - pre:end].copy()
            self._busy = True
        dec: _Decoded | None = None
        try:
            dec = self._decode(audio, start, pre)
        except Exception as e:  # a failed decode must not kill the answer: finalize retries
            self.errors.append(str(e).splitlines()[0] if str(e) else type(e).__name__)
        with self._cv:
            self._busy = False
            if dec is not None and start == self._committed:
                if kind == "commit" or (end - start) >= self.so.commit_min_s * SR:
                    self._segments.extend(dec.segments)
                    self._committed = end
                    self._spec = None
                else:
                    self._spec = dec
            self._cv.notify_all()

    def _preroll(self, start: int, end: int) -> int:
        """Samples of context before ``start``: ``preroll_s``, but the whole decode stays within
        one 28 s window (a second Whisper window would double the cost)."""
        room = max(0, int(28 * SR) - (end - start))
        return min(start, int(self.so.preroll_s * SR), room)

    def _decode(self, audio: np.ndarray, start: int, pre: int = 0) -> _Decoded:
        """Decode ``audio`` (which begins ``pre`` samples before ``start``, as acoustic context)
        and keep only the words from ``start`` on."""
        t0 = time.perf_counter()
        tr = self.transcriber.transcribe(audio, self.options, offset_s=(start - pre) / SR)
        self.decode_s += time.perf_counter() - t0
        self.decodes += 1
        segs = list(tr.segments)
        if pre:
            cut = start / SR
            kept: list[Segment] = []
            for sg in segs:
                if sg.words:
                    words = [w for w in sg.words if (w.start + w.end) / 2 >= cut]
                    if words:
                        kept.append(Segment(start=words[0].start, end=sg.end,
                                            text=" ".join(w.word for w in words), words=words))
                elif (sg.start + sg.end) / 2 >= cut:
                    kept.append(sg)
            segs = self._drop_repeated_boundary(kept, cut)
        return _Decoded(start=start, end=start + audio.size - pre, segments=segs)

    def _drop_repeated_boundary(self, segs: list[Segment], cut: float,
                                max_words: int = 3) -> list[Segment]:
        """Drop leading words that repeat the committed text's last words across the cut.

        Word timestamps are only good to a few hundred ms, so a word right at the cut can be
        kept by both the chunk before and the chunk after ("... a full grid." + "grid.").
        Only when the committed word runs into the last 0.1 s before the cut: cuts lie 0.2 s
        into a pause, so a word genuinely said twice around a pause is never merged.
        """
        with self._cv:
            done = [w for sg in self._segments for w in sg.words][-max_words:]
        if not done or not segs or not segs[0].words or done[-1].end < cut - 0.1:
            return segs

        def norm(w: str) -> str:
            return "".join(ch for ch in w.lower() if ch.isalnum())

        prev = [norm(w.word) for w in done]
        head = [norm(w.word) for w in segs[0].words[:max_words]]
        for k in range(min(len(prev), len(head)), 0, -1):
            if prev[-k:] == head[:k]:
                first = segs[0]
                words = first.words[k:]
                if words:
                    segs = [Segment(start=words[0].start, end=first.end,
                                    text=" ".join(w.word for w in words), words=words), *segs[1:]]
                else:
                    segs = segs[1:]
                break
        return segs

    # ------------------------------------------------------------------ the end
    def finalize(self) -> Transcript:
        """Stop the worker and return the whole answer's transcript (decoding what is left)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            while self._busy:
                self._cv.wait()
            n = self._n
            c = self._committed
            lv = self._last_voiced_frame()
            spec = self._spec
            usable = (spec is not None and spec.start == c
                      and (lv + 1) * FRAME <= spec.end and n - spec.end < SR * 5)
            pre = self._preroll(c, n)
            tail_audio = None if usable else self._audio[c - pre:n].copy()
            segments = list(self._segments)
        if usable:
            segments.extend(spec.segments)
        elif tail_audio is not None and (lv + 1) * FRAME > c:
            segments.extend(self._decode(tail_audio, c, pre).segments)
        if self._worker.is_alive():
            self._worker.join(timeout=5)
        text = " ".join(s.text for s in segments if s.text).strip()
        return Transcript(text=text, segments=segments, duration_s=round(n / SR, 3))

    @property
    def samples(self) -> int:
        return self._n

    def audio(self) -> np.ndarray:
        with self._cv:
            return self._audio[:self._n].copy()


def transcribe_streaming(transcriber: WhisperTranscriber, audio: np.ndarray,
                         options: TranscribeOptions | None = None,
                         stream_options: StreamOptions | None = None,
                         block: int = FRAME, realtime: float = 0.0,
                         synchronous: bool = False) -> Transcript:
    """Run a whole clip through the streaming path (VAD + worker), block by block.

    ``realtime`` > 0 paces the feed at that many times real time (0 = as fast as possible).
    ``synchronous`` decodes inline as if the worker were infinitely fast: every pause is probed,
    so the chunking is the one a live answer gets, and the result is deterministic.
    """
    from .vad import StreamingVAD

    vad = StreamingVAD()
    st = StreamingTranscriber(transcriber, options, stream_options, synchronous=synchronous)
    t0 = time.perf_counter()
    for i in range(0, audio.size, block):
        chunk = audio[i:i + block]
        st.append(chunk, vad.feed(chunk))
        if realtime > 0:
            ahead = (i + chunk.size) / SR / realtime - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)
    return st.finalize()
