"""Voice commands recognised in what the candidate says (and their keyboard twins).

A command counts only when it is most of the utterance: "could you repeat the question?" is a
command; an answer that mentions repeating an experiment is not.
"""

from __future__ import annotations

import re

import jellyfish
from rapidfuzz.distance import Levenshtein

COMMANDS: dict[str, list[str]] = {
    "repeat": [r"(?:could|can|would) you (?:please )?(?:repeat|say) "
               r"(?:the|that|it)(?: question| again)?",
               r"repeat (?:the|that) question", r"say (?:that|it) again", r"(?:come again|pardon)",
               r"what was the question", r"(?:please )?repeat(?: that| it)?"],
    "rephrase": [r"(?:could|can|would) you (?:please )?(?:rephrase|reword|put it differently|"
                 r"explain the question)(?: (?:that|it|the question))?",
                 r"rephrase (?:that|the question|it)",
                 r"(?:i )?(?:don't|do not) understand the question", r"what do you mean"],
    "skip": [r"skip (?:this|that|the)(?: one| question)",
             r"(?:can|could|may) (?:we|i) skip(?: (?:this|that|it)(?: one| question)?)?",
             r"(?:let's|lets|let us) skip(?: (?:this|that|it)(?: one| question)?)?",
             r"(?:(?:can|could) we (?:go|move) (?:on )?to the )?next question",
             r"skip(?: it)?", r"pass"],
    "question": [r"i have a question", r"(?:can|could|may) i ask (?:you )?(?:a|something)",
                 r"quick question"],
    "pause": [r"(?:can|could) we (?:pause|take a (?:short )?break)", r"pause(?: please)?",
              r"(?:let's|lets) (?:pause|take a break)", r"give me a (?:minute|moment|second)"],
    "resume": [r"resume", r"(?:let's|lets) (?:continue|resume|go on)", r"i'?m back",
               r"(?:ok |okay )?continue"],
    "end": [r"(?:let's|lets) (?:end|stop|finish) (?:here|now|the interview|there)",
            r"(?:i want to|can we|could we) (?:end|stop|finish)(?: the interview| here| now)?",
            r"end (?:the )?interview", r"stop the interview"],
}
_COMPILED = {k: [re.compile(rf"^(?:\W*(?:um|uh|so|okay|ok|sorry|yeah|well|actually|hey)\W*)*"
                            rf"{p}(?:\W*(?:please|now|thanks|thank you))*\W*$", re.IGNORECASE)
                 for p in v] for k, v in COMMANDS.items()}
KEYS = {"r": "repeat", "p": "pause", "s": "skip", "e": "end", "?": "question", "f": "rephrase"}
MAX_WORDS = 12


# "Can you <verb> that?" where the recogniser misheard the verb ("can you refrain now?"): only the
# harmless requests, never skip/end, and only in that polite frame, so an answer cannot trigger it.
_POLITE = re.compile(r"^(?:\W*(?:um|uh|so|okay|ok|sorry|yeah|well|hey)\W*)*(?:could|can|would) you "
                     r"(?:please )?(?P<verb>[a-z'-]+)(?: (?:that|it|this|the question|again|now|"
                     r"please|for me))*\W*$", re.IGNORECASE)
_SOUND_ALIKE_VERBS = [(verb, jellyfish.metaphone(verb), command) for verb, command in
                      (("repeat", "repeat"), ("rephrase", "rephrase"), ("reword", "rephrase"))]


def _sounds_like_verb(word: str) -> str | None:
    key = jellyfish.metaphone(word)
    for verb, target, command in _SOUND_ALIKE_VERBS:
        if word[:2].lower() == verb[:2] and Levenshtein.distance(key, target) <= 1:
            return command
    return None


def detect_command(text: str) -> str | None:
    """The command the utterance is, or None when it is an answer."""
    t = " ".join(text.replace("’", "'").split()).strip()
    if not t or len(t.split()) > MAX_WORDS:
        return None
    for name, regs in _COMPILED.items():
        if any(r.match(t) for r in regs):
            return name
    m = _POLITE.match(t)
    return _sounds_like_verb(m.group("verb")) if m else None
