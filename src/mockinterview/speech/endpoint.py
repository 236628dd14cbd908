"""End-of-turn policy: when has the candidate finished answering? Pure logic, no audio, no clock.

A fixed silence timeout is wrong both ways: short enough to feel responsive, it cuts people off
during a thinking pause ("and then... um"); long enough to be safe, every answer ends with an
awkward wait. So the silence window depends on the words so far:

- the text ends a complete thought -> the short window (0.8 s by default), once the answer has
  a few words (a five-word "answer" is usually a pause, not the end);
- the text stops mid-sentence: on a filler ("um", "so"), a conjunction ("and", "because"), a
  preposition ("of", "with"), an article ("the") or a comma -> the long window (2.5 s);
- the text ends with an explicit closing phrase ("I'm done", "that's all", "that's my answer")
  -> the turn ends at once.

Time here is *audio time* (seconds of audio received since the answer began), so the same policy
runs unchanged on a live microphone, on a file fed faster than real time, and in unit tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXPLICIT_END_PHRASES: tuple[str, ...] = (
    "i'm done", "i am done", "im done", "i'm finished", "i am finished",
    "that's all", "that is all", "thats all", "that's all i have",
    "that's my answer", "that is my answer", "thats my answer", "end of answer",
)

FILLERS = frozenset({
    "um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm", "like", "so", "well", "basically",
    "actually", "you know", "i mean", "kind of", "sort of",
})
CONJUNCTIONS = frozenset({
    "and", "but", "or", "nor", "so", "because", "since", "although", "though", "while", "whereas",
    "if", "unless", "then", "than", "whom", "whose", "where", "when",
    "as", "until", "before", "after", "also", "plus", "hence", "therefore", "thus", "whether",
})
PREPOSITIONS = frozenset({
    "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "onto", "about", "over",
    "under", "between", "through", "during", "without", "within", "across", "against", "via",
    "per", "like", "towards", "toward", "upon", "among", "versus", "vs",
})
ARTICLES = frozenset({"a", "an", "the", "this", "these", "those", "my", "our", "their", "its",
                      "your", "some", "any", "each", "every"})
# Words after which nobody ends an answer: auxiliaries and pronoun subjects waiting for a verb.
DANGLING = frozenset({"is", "are", "was", "were", "been", "being", "i", "we", "they", "it's",
                      "there's", "let's", "very", "really"})
MID_WORDS = FILLERS | CONJUNCTIONS | PREPOSITIONS | ARTICLES | DANGLING

_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def is_explicit_end(text: str) -> bool:
    """True when the text ends with a closing phrase such as "I'm done" or "that's my answer"."""
    words = _words(text)
    if not words:
        return False
    tail = " ".join(words[-6:])
    return any(tail == p or tail.endswith(" " + p) for p in EXPLICIT_END_PHRASES)


def ends_mid_thought(text: str) -> bool:
    """True when the words so far stop mid-sentence (filler, conjunction, article, comma ...)."""
    stripped = text.rstrip()
    if not stripped:
        return True  # nothing understood yet: give the candidate time
    if stripped.endswith((",", ";", ":", "-", "...", "\u2026")):
        return True
    words = _words(stripped)
    if not words:
        return True
    last = words[-1]
    last_two = " ".join(words[-2:])
    return last in MID_WORDS or last_two in FILLERS


@dataclass
class EndpointOptions:
    """The end-of-turn policy's knobs (seconds of audio).

    - ``short_silence_s=0.8``: after a complete thought; short enough that the next question does
      not feel late, long enough to span a breath between sentences.
    - ``long_silence_s=2.5``: after a filler or a dangling word; a thinking pause is rarely longer.
    - ``unknown_text_silence_s=2.5``: while the words of the last stretch are not transcribed yet
      the long window applies, so a slow decode never cuts the candidate off.
    - ``short_min_words=8``: an answer of fewer words gets the long window even after a full stop:
      Whisper punctuates every pause ("And so, my fellow Americans."), and a candidate who has said
      five words has rarely finished.
    - ``min_speech_s=0.15``: voiced audio needed before the answer counts as started (ignores
      clicks).
    - ``no_speech_timeout_s=20``: end the turn with reason ``no-speech`` if nothing was said.
    """

    short_silence_s: float = 0.8
    long_silence_s: float = 2.5
    unknown_text_silence_s: float = 2.5
    short_min_words: int = 8
    min_speech_s: float = 0.15
    no_speech_timeout_s: float = 20.0


def silence_window(text: str, options: EndpointOptions | None = None) -> float:
    """Seconds of silence after which the turn ends, given the words so far (0 = at once)."""
    o = options or EndpointOptions()
    if is_explicit_end(text):
        return 0.0
    if ends_mid_thought(text) or len(_words(text)) < o.short_min_words:
        return o.long_silence_s
    return o.short_silence_s


class EndpointDetector:
    """Tracks voiced frames and the transcript; says when the turn is over.

    Feed it every VAD frame (``on_frame``) and every transcript update (``on_text``, with the audio
    time the text covers up to); ask ``decide(t)`` after each frame. Text that does not cover the
    last voiced frame is stale: the window then stays at ``unknown_text_silence_s``.
    """

    def __init__(self, options: EndpointOptions | None = None):
        self.options = options or EndpointOptions()
        self.speech_start_t: float | None = None  # audio time the answer's speech began
        self.last_voiced_t: float | None = None  # audio time of the end of the last voiced frame
        self._voiced_s = 0.0
        self._run_start: float | None = None
        self._t = 0.0
        self.text = ""
        self.text_until = -1.0
        self.window_s: float | None = None  # the window that ended the turn

    @property
    def speech_started(self) -> bool:
        return self.speech_start_t is not None

    def on_frame(self, t_start: float, t_end: float, is_speech: bool) -> None:
        self._t = max(self._t, t_end)
        if not is_speech:
            self._run_start = None
            return
        if self._run_start is None:
            self._run_start = t_start
        self._voiced_s += t_end - t_start
        if self.speech_start_t is None and self._voiced_s >= self.options.min_speech_s:
            self.speech_start_t = self._run_start
        if self.speech_start_t is not None:
            self.last_voiced_t = t_end

    def on_text(self, text: str, covers_until: float) -> None:
        """The transcript of the whole answer so far, decoded up to audio time ``covers_until``."""
        if covers_until >= self.text_until:
            self.text = text
            self.text_until = covers_until

    def silence_s(self, t: float | None = None) -> float:
        if self.last_voiced_t is None:
            return 0.0
        return max(0.0, (self._t if t is None else t) - self.last_voiced_t)

    def text_is_fresh(self) -> bool:
        return self.last_voiced_t is not None and self.text_until >= self.last_voiced_t - 1e-6

    def current_window(self) -> float:
        if not self.text_is_fresh():
            return self.options.unknown_text_silence_s
        return silence_window(self.text, self.options)

    def decide(self, t: float | None = None) -> str | None:
        """None while the turn goes on; else the reason: "explicit", "silence" or "no-speech"."""
        now = self._t if t is None else t
        if self.speech_start_t is None:
            if now >= self.options.no_speech_timeout_s:
                return "no-speech"
            return None
        if self.text_is_fresh() and is_explicit_end(self.text):
            self.window_s = 0.0
            return "explicit"
        window = self.current_window()
        if self.silence_s(now) >= window:
            self.window_s = window
            return "silence"
        return None
