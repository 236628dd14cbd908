"""Transcription that knows the vocabulary of the current question.

A good answer heard as "DNA impurity" instead of "Gini impurity" is scored as a bad one, so the
transcript must get the candidate's technical words right. Three mechanisms, all driven by the
vocabulary the bank expects for the question being answered (never by a list of known errors):

1. **Biased decoding** (:func:`hotwords_for`): faster-whisper's ``hotwords`` prompt, filled with the
   question's most distinctive terms first. Measured on this project's benchmark
   (``benchmarks/terms.py``) it lifts technical-term recall a lot, but with the bundled tiny.en it
   also, now and then, loops on a hotword, copies the hotword list into the transcript, skips the
   start of a window or appends a hotword after the speech ends. So biased decoding is never used
   alone:
2. **Guarded fusion** (:func:`fuse`): the answer is decoded twice, plain and biased. The plain
   transcript is the base; from the biased one only the stretches that carry an expected term are
   imported, and only where both decodings have words over the same stretch of time (aligned by
   word timestamps) that sound alike. Hallucinated insertions, loops and dropped spans of the biased
   pass cannot reach the result.
3. **Correction** (:func:`correct`): a conservative pass that maps near misses to expected terms by
   sound-alike (Metaphone keys of the spoken form, with letters and digits spelled the way people
   say them) and edit distance over word sequences of 1-4 words ("regular nation" ->
   "regularization", "ex g boost" -> "XGBoost", "el two" -> "L2"). Conservative by construction: a
   single common English word is never replaced; a sequence of common words only when it sounds like
   the term as a whole; letters only change in words the decoder itself was unsure of (word
   probability); a correction never just adds or drops words or changes an inflection; function
   words are only absorbed by spelled acronyms when they sound like letters ("are a g" -> RAG). With
   the whole bank's vocabulary it changes nothing in the real human clips of ``../shared/speech``.

4. **Acoustic verification** (:func:`verify`): looser proposals (sound-alike matches with the
   question's terms and the whole bank's, and every stretch where the biased decoding heard
   something else) are each scored by the same Whisper model against the audio (teacher-forced
   log-probability of the window's text with and without the edit,
   ``WhisperTranscriber.scorer``); an edit is kept only when the audio supports it, with a small
   prior for the question's own terms. Beam search with tiny.en often settles on a wrong hearing
   that the model itself finds far less likely than the right one once it is proposed.

Every change is listed in ``Transcript.corrections`` (position = index in the raw transcript's word
list, i.e. the segments' words in order), ``raw_text`` keeps the decoder's text, ``text`` is what
scoring reads, and the segments' words are rewritten consistently (a merged n-gram becomes one word
spanning the first word's start to the last word's end).

Modules, in the order the passes run (:mod:`.pipeline` owns that order): ``words`` (common
English), ``soundkeys`` (spoken forms, Metaphone keys), ``terms`` (vocabulary, hotwords),
``rebuild`` (word lists), ``correction``, ``fusion``, ``verification``, ``spelling``, ``pipeline``.
"""

from mockinterview.vocab import rebuild, soundkeys, terms, verification, words  # noqa: F401
from mockinterview.vocab.correction import correct
from mockinterview.vocab.fusion import fuse
from mockinterview.vocab.options import CorrectionOptions, FusionOptions
from mockinterview.vocab.pipeline import transcribe_with_vocabulary
from mockinterview.vocab.soundkeys import spoken_forms
from mockinterview.vocab.spelling import respell
from mockinterview.vocab.terms import bank_terms, hotwords_for, is_technical, question_terms
from mockinterview.vocab.verification import VerifyOptions, verify
from mockinterview.vocab.words import bpe_pieces

__all__ = [
    "CorrectionOptions",
    "FusionOptions",
    "VerifyOptions",
    "bank_terms",
    "bpe_pieces",
    "correct",
    "fuse",
    "hotwords_for",
    "is_technical",
    "question_terms",
    "respell",
    "spoken_forms",
    "transcribe_with_vocabulary",
    "verify",
]
