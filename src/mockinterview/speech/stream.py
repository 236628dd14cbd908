"""Streaming transcription: decode the answer while the candidate is still speaking.

Why: transcribing a 3-minute answer after it ends takes seconds on this CPU, and the interviewer
would sit silent meanwhile. Here a background worker decodes as the answer grows, so when the turn
ends at most one window is left, and it is usually decoded already during the silence window that
ends the turn.

How (whole-file windows, decoded early):

- Whole-file decoding reads the answer in 30 s windows: it decodes one, keeps the segments that
  ended inside it and starts the next window where the last kept segment ended. The worker does the
  same, as soon as 30 s of audio lie beyond the committed point: same windows, same model, same
  options (``condition_on_previous_text`` is off, so windows are independent), so the committed
  text is what whole-file decoding would have written. Cutting the answer anywhere else was
  measured to cost words (see :class:`StreamOptions`).
- Whenever the candidate pauses for ``probe_after_s``, the worker decodes the rest (committed point
  to now, under one window) as a speculative *probe*: if the candidate says nothing more, that is
  exactly whole-file decoding's last window, and the answer's transcript is ready. The probe's text
  also feeds the end-of-turn policy (a complete thought ends the turn sooner).

The final transcript is the committed windows plus the last probe (or a decode of the rest when
the candidate spoke after it); tests/test_stream.py holds it to whole-file quality.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from mockinterview.schema import Segment, Transcript
from mockinterview.speech.transcribe import TranscribeOptions, WhisperTranscriber
from mockinterview.speech.vad import FRAME

SR = 16_000


@dataclass
class StreamOptions:
    """When to decode while the candidate speaks (seconds of audio).

    - ``window_s=30``: Whisper's window. A window is committed once this much audio lies beyond the
      committed point; the segments ending in its last ``edge_s`` are left to the next window,
      which is where whole-file decoding would start it too.
    - ``edge_s=1.0``: a segment ending this close to the window's edge may be cut mid-word.
    - ``probe_after_s=0.2``: a pause this long triggers a probe of the rest; short enough that the
      text is ready well inside the 0.8 s end-of-turn window, long enough to skip gaps between
      words.
    - ``min_tail_s=0.3``: less uncommitted audio than this is not worth a decode.

    Measured with tiny.en int8 on the human clips of ``../shared/speech`` joined and espeak-ng
    answers of 60-150 s in several voices (``benchmarks/stream_chunking.py`` holds five of these
    clips). The design this replaced, 10 s chunks committed at pauses with 15 s of
    already-committed audio as context, cost +1.1 WER points against whole-file decoding on five
    clips; 18 s chunks with 4 s of context +1.6 on seven, with up to 10 extra errors on one 60 s
    clip; these windows +0.2 on the same seven, at most 4 extra errors on any clip. Each decode
    costs about 0.35 s plus 0.035 s per second of audio here, so the last probe (under 30 s)
    takes 0.4-0.9 s.
    """

    window_s: float = 30.0
    edge_s: float = 1.0
    probe_after_s: float = 0.2
    min_tail_s: float = 0.3
    # Experimental, off (0): commit a probe's segments up to a real pause (``pause_commit_s`` of
    # VAD silence right after a segment's end, the last segment never) once the probe spans
    # ``pause_commit_after_s``, so the tail left for the end of the turn is the audio since that
    # pause. Why: a 19 s answer's whole tail is decoded only at turn end (0.71 s finalisation
    # under load against the 0.5 s goal). Not shipped: on a 21 s espeak answer it left 11 s
    # instead of 21 s to decode but its WER rose from 14.8% to 29.6% (4 more errors: a prefix
    # decoded without the rest of the window reads differently), the cost this module's design
    # avoids (tests/test_stream.py). Try it with 0.5 (and benchmarks/turn_latency.py).
    pause_commit_s: float = 0.0
    pause_commit_after_s: float = 8.0


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
        self._committed = 0  # samples decoded for good
        self._segments: list[Segment] = []
        self._spec: _Decoded | None = None  # speculative tail decode
        self._probed_voiced = -1  # last voiced frame index covered by the latest probe
        self._cv = threading.Condition()
        self._busy = False
        self._closed = False
        self._stopped = False  # a window failed to decode: leave the rest to finalize
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
            self._flags.extend(s for _p, s in frames)
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
        if self._stopped:
            return None
        c, n = self._committed, min(self._n, len(self._flags) * FRAME)
        window = int(self.so.window_s * SR)
        if n - c >= window:
            return ("window", c, c + window)
        if n - c < self.so.min_tail_s * SR:
            return None
        lv = self._last_voiced_frame()
        if lv < c // FRAME:
            return None  # only silence since the last commit
        trailing = len(self._flags) - 1 - lv
        if trailing * FRAME >= self.so.probe_after_s * SR and lv != self._probed_voiced:
            return ("probe", c, n)
        return None

    def _run(self) -> None:
        while True:
            with self._cv:
                job = None
                while not self._closed and (job := self._next_job()) is None:
                    self._cv.wait(timeout=0.5)
                if self._closed or job is None:
                    return
            self._do(job)

    def _do(self, job: tuple[str, int, int]) -> None:
        """Decode one job outside the lock and store its result (a window or a probe)."""
        kind, start, end = job
        with self._cv:
            if kind == "probe":
                self._probed_voiced = self._last_voiced_frame()
            audio = self._audio[start:end].copy()
            self._busy = True
        dec: _Decoded | None = None
        try:
            dec = self._decode(audio, start)
        except Exception as e:  # a failed decode must not kill the answer: finalize retries
            self.errors.append(str(e).splitlines()[0] if str(e) else type(e).__name__)
        with self._cv:
            self._busy = False
            if dec is not None and start == self._committed:
                if kind == "window":
                    self._commit_window(dec)
                else:
                    self._spec = dec
                    self._commit_at_pause(dec)
            elif dec is None and kind == "window":
                # the decode failed: stop decoding early rather than retry in a loop; finalize
                # decodes everything from the committed point, so no word is lost
                self._stopped = True
            self._cv.notify_all()

    def _commit_window(self, dec: _Decoded) -> None:
        """Keep the segments that ended inside the window; the next window starts after them."""
        edge = dec.end / SR - self.so.edge_s
        keep = [sg for sg in dec.segments if sg.end <= edge]
        if not keep or len(keep) == len(dec.segments):
            keep, until = dec.segments, dec.end
        else:
            until = max(dec.start + SR, min(dec.end, int(round(keep[-1].end * SR))))
        self._segments.extend(keep)
        self._committed = until
        self._spec = None

    def _commit_at_pause(self, dec: _Decoded) -> None:
        """Commit a probe's segments that end at a real pause (see StreamOptions)."""
        so = self.so
        if so.pause_commit_s <= 0 or dec.end - dec.start < so.pause_commit_after_s * SR:
            return
        need = max(1, int(round(so.pause_commit_s * SR / FRAME)))
        limit = dec.end - int(so.edge_s * SR)
        best: tuple[int, int] | None = None
        for i, sg in enumerate(dec.segments[:-1]):
            f0 = int(sg.end * SR) // FRAME + 1  # the first whole frame after the segment
            run = 0
            while f0 + run < len(self._flags) and not self._flags[f0 + run] and run < need:
                run += 1
            if run >= need and (f0 + need) * FRAME <= limit:
                best = (i, (f0 + need // 2) * FRAME)
        if best is None:
            return
        i, cut = best
        self._segments.extend(dec.segments[:i + 1])
        self._committed = cut
        self._spec = None

    def _decode(self, audio: np.ndarray, start: int) -> _Decoded:
        """Decode ``audio``, which begins at sample ``start`` of the answer."""
        t0 = time.perf_counter()
        tr = self.transcriber.transcribe(audio, self.options, offset_s=start / SR)
        self.decode_s += time.perf_counter() - t0
        self.decodes += 1
        return _Decoded(start=start, end=start + audio.size, segments=list(tr.segments))

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
            rest = None if usable else self._audio[c:n].copy()
            segments = list(self._segments)
        if usable and spec is not None:
            segments.extend(spec.segments)
        elif rest is not None and (lv + 1) * FRAME > c:
            # more than one window may be left if the worker fell behind: faster-whisper then
            # walks the windows itself, exactly as whole-file decoding does
            segments.extend(self._decode(rest, c).segments)
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
    from mockinterview.speech.vad import StreamingVAD

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
