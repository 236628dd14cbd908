"""Options of the vocabulary passes, with their documented defaults.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- options


@dataclass(frozen=True)
class CorrectionOptions:
    """Thresholds of the correction pass. Defaults were chosen to change nothing on real human
    speech (``../shared/speech``) under any question's vocabulary while fixing near misses.

    - ``max_ngram=4``: transcript word sequences of 1-4 words are compared with each term (a term
      spelled as letters, "ex g boost", takes three words).
    - ``threshold=0.8``: similarity (0-1, the better of spelling and sound) a sequence that holds at
      least one uncommon word needs to be replaced.
    - ``common_threshold=0.85``: the stricter bar for a sequence of two or more common English
      words ("regular nation"): the sequence as a whole must sound like the term.
    - ``min_key_len=4``: sound-alike keys shorter than this are too coarse to trust unless equal.
    - ``unsure_common=0.5`` / ``unsure_rare=0.75``: a correction that changes letters (not just
      spacing, "drop out" -> dropout) needs the decoder to have been unsure of every word it
      changes: word probability below 0.5 for sequences of common words ("regular nation" came
      out at 0.04 and 0.11), below 0.75 otherwise. Transcripts without word probabilities
      (typed answers, probability 1.0) therefore only get spacing fixes.
    """

    max_ngram: int = 4
    threshold: float = 0.8
    common_threshold: float = 0.85
    min_key_len: int = 4
    unsure_common: float = 0.5
    unsure_rare: float = 0.75


@dataclass(frozen=True)
class FusionOptions:
    """How the biased decoding may override the plain one (see :func:`fuse`).

    - ``boundary_tol_s=0.35``: the plain and biased word runs must start and end within this many
      seconds of each other (tiny.en's word timestamps wander by 0.1-0.3 s).
    - ``max_extend=4``: how many words a run may grow on each side while looking for agreeing
      boundaries.
    - ``min_similarity=0.5``: sound-alike similarity the plain run needs with the biased run.
    - ``terms_only=True``: only stretches where the biased pass heard an expected term are
      imported. Importing every confident difference lowered WER on synthesised answers (17.8%
      -> 17.5%) but changed a correct word of real human speech ("cotton" -> "carton").
    - ``term_margin`` / ``word_margin``: how much surer (mean word probability) the biased run
      must be than the plain run, for term stretches / other stretches.
    """

    boundary_tol_s: float = 0.35
    max_extend: int = 4
    min_similarity: float = 0.5
    terms_only: bool = True
    term_margin: float = -1.0
    word_margin: float = 0.0


