"""Text normalisation and word error rate, shared by tests, benchmarks and scoring.

Why one module: a WER figure only means something when the reference and the transcript were
normalised the same way, and several stages compare text (the transcription benchmark, the
vocabulary benchmark, tests that check a transcript). ``normalize`` is deliberately simple and
deterministic:

- lowercase; punctuation removed; hyphens and slashes split words ("k-means" -> "k means");
  apostrophes dropped inside words ("don't" -> "dont", "master's" -> "masters");
- number words become digits ("twenty five" -> "25", "zero point five" -> "0 point 5") and digit
  strings lose their thousands separators ("1,000" -> "1000", "0.5" -> "0 point 5");
- a single letter followed by a number joins it ("l 2" and "L2" -> "l2", "f one" -> "f1"), except
  the words "a" and "i", so spoken and written forms of L1/L2/F1 compare equal;
- "%" -> "percent", "&" -> "and", "+" -> "plus";
- British spellings of common ML words become American ("regularisation" -> "regularization",
  "labelled" -> "labeled", "behaviour" -> "behavior").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# ----------------------------------------------------------------------------- numbers

_UNITS: dict[str, int] = {  # not "oh": too often an interjection to be a zero
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TENS) | frozenset(_SCALES)

# ----------------------------------------------------------------------------- spelling

# Stems whose -ise/-isation forms are spelled -ize/-ization in American English. A list rather than
# a rule because "precise", "noise", "exercise", "raise", "wise" must stay as they are.
_IZE_STEMS = (
    "regular", "normal", "optim", "general", "standard", "token", "vector", "real", "organ",
    "minim", "maxim", "summar", "recogn", "categor", "parameter", "initial", "visual", "util",
    "quant", "memor", "random", "personal", "special", "character", "emphas", "priorit",
    "custom", "stabil", "capital", "central", "final", "local", "serial", "deserial", "lemmat",
    "binar", "discret", "modern", "operational", "synchron", "author", "apolog", "critic",
    "hypothes", "theor", "symbol", "penal", "equal", "neutral", "legal", "monet", "item",
    "digit", "industrial", "rational", "sanit", "container", "harmon", "stabil", "conceptual",
    "contextual", "operation", "product", "democrat", "global", "hospital", "internal",
)
_IZE_ENDINGS = {
    "ise": "ize", "ised": "ized", "ises": "izes", "ising": "izing", "iser": "izer",
    "isers": "izers", "isation": "ization", "isations": "izations", "isable": "izable",
}
_IZE_RE = re.compile(
    r"^(" + "|".join(sorted(set(_IZE_STEMS), key=len, reverse=True)) + r")("
    + "|".join(sorted(_IZE_ENDINGS, key=len, reverse=True)) + r")$")
_UK_US = {
    "labelled": "labeled", "labelling": "labeling", "modelling": "modeling",
    "modelled": "modeled", "modeller": "modeler", "travelled": "traveled",
    "travelling": "traveling", "cancelled": "canceled", "cancelling": "canceling",
    "signalling": "signaling", "tunnelling": "tunneling", "channelling": "channeling",
    "behaviour": "behavior", "behaviours": "behaviors", "behavioural": "behavioral",
    "colour": "color", "colours": "colors", "favour": "favor", "favourite": "favorite",
    "neighbour": "neighbor", "neighbours": "neighbors", "neighbourhood": "neighborhood",
    "centre": "center", "centres": "centers", "centred": "centered", "analyse": "analyze",
    "analysed": "analyzed", "analyses": "analyzes", "analysing": "analyzing",
    "catalogue": "catalog", "dialogue": "dialog", "programme": "program",
    "licence": "license", "defence": "defense", "offence": "offense", "judgement": "judgment",
    "grey": "gray", "artefact": "artifact", "artefacts": "artifacts", "fulfil": "fulfill",
    "enrolment": "enrollment", "skilful": "skillful", "paralyse": "paralyze",
    "optimisations": "optimizations",
}

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def american(word: str) -> str:
    """The American spelling of a lowercase word, when it is a known British spelling."""
    if word in _UK_US:
        return _UK_US[word]
    m = _IZE_RE.match(word)
    if m:
        return m.group(1) + _IZE_ENDINGS[m.group(2)]
    return word


def _words_to_numbers(tokens: list[str]) -> list[str]:
    """Replace runs of number words by their digits ("one hundred and five" -> "105")."""
    out: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        if tokens[i] not in NUMBER_WORDS or tokens[i] in _SCALES:
            out.append(tokens[i])
            i += 1
            continue
        total = 0  # completed thousands/millions
        current = 0  # the part below the last scale
        last: str | None = None  # "unit", "teen", "tens", "scale": the previous token
        j = i
        while j < n:
            t = tokens[j]
            if t in _UNITS:
                v = _UNITS[t]
                if last == "tens" and v < 10 and v != 0:
                    current += v
                    last = "unit"
                elif last in (None, "scale"):
                    current += v
                    last = "teen" if v >= 10 else "unit"
                else:
                    break  # "two three": two separate numbers
            elif t in _TENS:
                if last in (None, "scale"):
                    current += _TENS[t]
                    last = "tens"
                else:
                    break
            elif t in _SCALES and last is not None and last != "scale":
                scale = _SCALES[t]
                if scale == 100:
                    current *= 100
                else:
                    total += current * scale
                    current = 0
                last = "scale"
            elif (t == "and" and last == "scale" and j + 1 < n
                  and (tokens[j + 1] in _UNITS or tokens[j + 1] in _TENS)):
                pass  # "one hundred and five"
            else:
                break
            j += 1
        out.append(str(total + current))
        i = j
    return out


def _split_digits(token: str) -> list[str]:
    """'0.5' -> ['0', 'point', '5']; '1,000' -> ['1000'] (done before punctuation is removed)."""
    return token.replace(".", " point ").split()


def normalize(text: str) -> list[str]:
    """Lowercased, punctuation-free, number- and spelling-normalised words (see module doc)."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(?<=\d)\.(?=\d)", " point ", text)  # 0.5 -> 0 point 5
    text = text.replace("%", " percent ").replace("&", " and ").replace("+", " plus ")
    text = re.sub(r"[-/_]", " ", text)
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", text)  # l2 -> l 2, gpt4 -> gpt 4
    raw = _TOKEN_RE.findall(text)
    tokens = [american(t.replace("'", "")) for t in raw]
    tokens = _words_to_numbers(tokens)
    # join a single letter with the number after it: "l 2" -> "l2"
    out: list[str] = []
    for t in tokens:
        if (out and t.isdigit() and len(out[-1]) == 1 and out[-1].isalpha()
                and out[-1] not in ("a", "i")):
            out[-1] = out[-1] + t
        else:
            out.append(t)
    return out


# ----------------------------------------------------------------------------- WER


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences (substitutions, insertions, deletions)."""
    if not ref:
        return len(hyp)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer_counts(ref: str, hyp: str) -> tuple[int, int]:
    """(word errors, reference words) after normalisation, for corpus-level WER sums."""
    r, h = normalize(ref), normalize(hyp)
    return edit_distance(r, h), len(r)


def wer(ref: str, hyp: str) -> float:
    """Word error rate of ``hyp`` against ``ref`` after :func:`normalize` (0.0 when both empty)."""
    errors, n = wer_counts(ref, hyp)
    if n == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / n


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """True when the normalised word sequence ``phrase`` occurs contiguously in ``haystack``."""
    if not phrase:
        return False
    k = len(phrase)
    first = phrase[0]
    for i in range(len(haystack) - k + 1):
        if haystack[i] == first and list(haystack[i:i + k]) == list(phrase):
            return True
    return False
