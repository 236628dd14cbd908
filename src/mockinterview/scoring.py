"""Scoring signals shared by the brains: text matching, key-point coverage, delivery metrics.

The offline engine (:mod:`mockinterview.interviewer.offline`) turns these signals into rubric levels;
the LLM engine uses :func:`verify_quotes` to keep only evidence that really occurs in the transcript.
Everything here is deterministic and pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .models import Delivery, KeyPoint, Question, Transcript

# ----------------------------------------------------------------------------- text

STOPWORDS = frozenset("""
a an the and or but if then else so of to in on at by for with from into onto about as is are was
were be been being it its this that these those there here i me my we our you your he she they them
their his her do does did done have has had having can could would should will shall may might must
not no nor than too very just also only own same such each few more most other some any all both
what which who whom whose when where why how up down out over under again further once
""".split())
# "no" and "not" carry meaning inside phrasings; they are stop words only for paraphrase matching.

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_BRITISH = [(re.compile(r"is(ation|e|ed|es|ing)$"), r"iz\1"), (re.compile(r"our$"), "or"),
            (re.compile(r"ll(ed|ing)$"), r"l\1")]
_SUFFIXES = ("izations", "ization", "ations", "ation", "ements", "ement", "ments", "ment",
             "ness", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A light, predictable stemmer: enough to match 'labelled'/'labels'/'labeling'."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3 or w.isdigit():
        return w
    for pattern, repl in _BRITISH:
        if len(w) > 5:
            w = pattern.sub(repl, w)
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            if suf == "s" and w.endswith(("ss", "us", "is")):
                break
            w = w[: -len(suf)]
            if suf in ("ies", "ied"):
                w += "i"
            break
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]  # runn -> run, label(l) -> label
    if w.endswith("y") and len(w) > 3:
        w = w[:-1] + "i"
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


@dataclass
class Tokens:
    """The answer as stemmed tokens, each mapped back to a character span of the original."""

    text: str
    stems: list[str] = field(default_factory=list)
    lower: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    sentence_of: list[int] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)  # char spans

    @classmethod
    def of(cls, text: str) -> Tokens:
        t = cls(text=text)
        # sentence boundaries: punctuation or line breaks
        starts = [0]
        for m in re.finditer(r"(?<=[.!?;])\s+|\n+", text):
            starts.append(m.end())
        bounds = [(s, e) for s, e in zip(starts, starts[1:] + [len(text)], strict=False)]
        t.sentences = bounds
        si = 0
        for m in _WORD.finditer(text):
            while si + 1 < len(bounds) and m.start() >= bounds[si + 1][0]:
                si += 1
            word = m.group(0)
            t.lower.append(word.lower())
            t.stems.append(stem(word))
            t.spans.append((m.start(), m.end()))
            t.sentence_of.append(si)
        return t

    def __len__(self) -> int:
        return len(self.stems)

    def quote(self, i: int, j: int, max_words: int = 30) -> str:
        """An exact substring of the text around tokens i..j: the sentence, or a window."""
        if not self.stems:
            return ""
        s_idx = self.sentence_of[i]
        s0, s1 = self.sentences[s_idx]
        in_sentence = [k for k, si in enumerate(self.sentence_of) if si == s_idx]
        if len(in_sentence) <= max_words:
            return self.text[s0:s1].strip()
        lo = max(in_sentence[0], i - 8)
        hi = min(in_sentence[-1], j + 8)
        return self.text[self.spans[lo][0]: self.spans[hi][1]].strip()


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) >= 6 and len(b) >= 6 and (a.startswith(b) or b.startswith(a)):
        return abs(len(a) - len(b)) <= 3
    return False


def phrase_tokens(phrase: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(phrase)]


def find_phrase(tokens: Tokens, phrase: str, max_gap: int = 1) -> tuple[int, int] | None:
    """First occurrence of the phrase's stems in order, allowing small gaps between them."""
    want = phrase_tokens(phrase)
    if not want:
        return None
    n = len(tokens.stems)
    for i in range(n):
        if not _same(tokens.stems[i], want[0]):
            continue
        pos, ok = i, True
        for w in want[1:]:
            nxt = None
            for k in range(pos + 1, min(n, pos + 2 + max_gap)):
                if _same(tokens.stems[k], w):
                    nxt = k
                    break
            if nxt is None:
                ok = False
                break
            pos = nxt
        if ok:
            return i, pos
    return None


def content_stems(text: str) -> list[str]:
    seen: list[str] = []
    for w in _WORD.findall(text):
        lw = w.lower()
        if lw in STOPWORDS or len(lw) < 3:
            continue
        s = stem(lw)
        if s not in seen:
            seen.append(s)
    return seen


@dataclass
class PointMatch:
    key_point: str
    covered: bool
    how: str = ""  # "phrasing" or "paraphrase"
    evidence: str = ""
    span: tuple[int, int] | None = None


def match_key_point(tokens: Tokens, kp: KeyPoint, paraphrase_share: float = 0.6) -> PointMatch:
    """Covered when an accepted phrasing occurs, or most of the point's content words occur
    close together (a paraphrase of the point itself)."""
    for ph in kp.phrasings:
        hit = find_phrase(tokens, ph)
        if hit:
            return PointMatch(kp.id, True, "phrasing", tokens.quote(*hit), hit)
    want = content_stems(kp.point)
    if len(want) >= 3 and tokens.stems:
        window = max(12, 2 * len(want) + 6)
        n = len(tokens.stems)
        best, best_span = 0.0, None
        for start in range(0, max(1, n - window + 1), 2):
            seg = tokens.stems[start: start + window]
            found = [w for w in want if any(_same(w, s) for s in seg)]
            share = len(found) / len(want)
            if share > best:
                best, best_span = share, (start, min(n, start + window) - 1)
        if best >= paraphrase_share and best_span and len(want) * best >= 3:
            i, j = best_span
            return PointMatch(kp.id, True, "paraphrase", tokens.quote(i, j), best_span)
    return PointMatch(kp.id, False)


def find_misconceptions(tokens: Tokens, question: Question) -> list[str]:
    out = []
    for m in question.misconceptions:
        hit = find_phrase(tokens, m, max_gap=2)
        if hit:
            out.append(tokens.quote(*hit))
    return out


# ----------------------------------------------------------------------------- answer shape

INJECTION = re.compile(
    r"ignore (?:all |any |the |your |previous |prior |above )*(?:instructions|rubric|rules|criteria)"
    r"|(?:give|award|grade|score|rate) (?:me|this|this answer|my answer|it)? ?(?:a |an |the )?"
    r"(?:five|5|full|top|maximum|max|perfect|highest)\b"
    r"|\b(?:five|5) out of (?:five|5)\b|\bfull marks\b"
    r"|\bsystem (?:prompt|message|override)\b|^\s*system\s*:|\byou are now\b"
    r"|\bas (?:the|your) (?:grader|system|administrator|developer)\b"
    r"|\bnew instructions?\b|\bdisregard (?:the|all|previous)\b",
    re.IGNORECASE | re.MULTILINE,
)


def injection_attempts(text: str) -> list[str]:
    return [m.group(0) for m in INJECTION.finditer(text)]


def stopword_ratio(tokens: Tokens) -> float:
    if not tokens.lower:
        return 0.0
    return sum(1 for w in tokens.lower if w in STOPWORDS) / len(tokens.lower)


def is_keyword_list(tokens: Tokens) -> bool:
    """A list of terms with no sentences: few function words, or mostly comma-separated items."""
    if len(tokens) < 8:
        return False
    if stopword_ratio(tokens) < 0.2:
        return True
    commas = tokens.text.count(",")
    return commas >= 6 and commas > len(tokens) / 3.5


SPECIFICS = [
    r"\bfor (?:example|instance)\b", r"\bsuch as\b", r"\be\.?g\.?\b", r"\bin my (?:last|previous|current)\b",
    r"\bwe (?:used|built|trained|deployed|measured|found|saw)\b", r"\bi (?:used|built|trained|deployed|measured|found)\b",
    r"\btrade-?offs?\b", r"\bon the other hand\b", r"\bwhereas\b", r"\bhowever\b", r"\bdepends on\b",
    r"\bbecause\b", r"\bwhich means\b", r"\bso that\b", r"\bin practice\b", r"\bthe downside\b",
    r"\bcompared (?:to|with)\b", r"\bunless\b", r"\bif the\b", r"\bwhen the\b",
]
_SPECIFIC_RE = [re.compile(p, re.IGNORECASE) for p in SPECIFICS]
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|percent|ms|milliseconds|seconds|x|times|k|m|gb)?\b",
                     re.IGNORECASE)


def specifics_count(text: str) -> int:
    return sum(len(r.findall(text)) for r in _SPECIFIC_RE) + min(4, len(_NUMBER.findall(text)))


STAR = {
    "situation": [r"\bthe situation\b", r"\bat my (?:previous|last|current|old) \w+", r"\bwhen i was\b",
                  r"\bwe were\b", r"\bi was working\b", r"\bcontext\b", r"\bback (?:in|when)\b",
                  r"\bat (?:a|an|my) \w+ (?:company|startup|job|team|bank|firm)\b", r"\bi worked (?:at|on)\b"],
    "task": [r"\bmy (?:role|task|job|responsibility|goal)\b", r"\bi was (?:responsible|asked|tasked|in charge)\b",
             r"\bthe (?:goal|task|objective|challenge) was\b", r"\bi (?:had|needed) to\b", r"\bi owned\b"],
    "action": [r"\bi (?:decided|built|wrote|proposed|set up|organi[sz]ed|talked|met|created|designed|"
               r"prioriti[sz]ed|started|led|ran|added|changed|implemented|introduced|negotiated|"
               r"scheduled|split|broke|asked|reached out|escalated|refactored|automated|analy[sz]ed)\b"],
    "result": [r"\bas a result\b", r"\bin the end\b", r"\bthe (?:result|outcome|impact)\b",
               r"\b(?:reduced|increased|improved|cut|saved|grew|raised|lowered|shipped|delivered|launched)\b",
               r"\b\d+(?:\.\d+)?\s*(?:%|percent)", r"\bon time\b", r"\bended up\b"],
    "reflection": [r"\bi learned\b", r"\bi learnt\b", r"\bnext time\b", r"\bin hindsight\b",
                   r"\blooking back\b", r"\bi would (?:now|do)\b", r"\blesson\b", r"\btaught me\b",
                   r"\bsince then\b", r"\bnow i\b"],
}
_STAR_RE = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in STAR.items()}


def star_parts(text: str) -> dict[str, str]:
    """STAR components found, each with the sentence that shows it."""
    tokens = Tokens.of(text)
    out: dict[str, str] = {}
    for part, regs in _STAR_RE.items():
        for r in regs:
            m = r.search(text)
            if m:
                out[part] = _sentence_at(tokens, m.start())
                break
    return out


def _sentence_at(tokens: Tokens, pos: int) -> str:
    for s, e in tokens.sentences:
        if s <= pos < e:
            sentence = tokens.text[s:e].strip()
            if len(sentence.split()) > 40:
                words = tokens.text[max(s, pos - 120): min(e, pos + 160)]
                return words.strip()
            return sentence
    return ""


SIGNPOSTS = re.compile(r"\b(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|finally|to (?:sum|summari[sz]e)|"
                       r"overall|in short|there are (?:two|three|four|a few) \w+)\b", re.IGNORECASE)


def verify_quotes(quotes: list[str], transcript: str) -> tuple[list[str], int]:
    """Keep the quotes that occur in the transcript (ignoring case, spacing, punctuation)."""
    def norm(s: str) -> str:
        return " ".join(w.lower() for w in _WORD.findall(s))

    hay = f" {norm(transcript)} "
    kept, dropped = [], 0
    for q in quotes:
        n = norm(q)
        if n and f" {n} " in hay:
            kept.append(q)
        else:
            dropped += 1
    return kept, dropped


# ----------------------------------------------------------------------------- delivery

FILLERS = ["um", "uh", "erm", "er", "uhm", "hmm", "mm", "ah", "you know", "i mean", "sort of",
           "kind of", "basically", "like"]
_FILLER_RE = {f: re.compile(rf"(?<![\w']){re.escape(f)}(?![\w'])", re.IGNORECASE) for f in FILLERS}
# "like" is a filler only when set off by commas or repeated; "kind of" only before a pause.
_LIKE_FILLER = re.compile(r"(?:^|[,.]\s*)like\s*,|\blike,|\blike\s+like\b", re.IGNORECASE)


def count_fillers(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for f, r in _FILLER_RE.items():
        if f == "like":
            n = len(_LIKE_FILLER.findall(text))
        elif f in ("kind of", "sort of"):
            n = len(re.findall(rf"\b{f}\b\s*[,.]", text, re.IGNORECASE))
        else:
            n = len(r.findall(text))
        if n:
            out[f] = n
    return out


def delivery_metrics(transcript: Transcript, duration_s: float | None = None,
                     pause_threshold_s: float = 2.0, window_s: float = 10.0) -> Delivery:
    """Words per minute, fillers, long pauses and speaking time from word timestamps.

    Speaking time runs from the first word's start to the last word's end minus long pauses, so
    silence before the candidate starts (reading, thinking) does not lower the pace.
    """
    text = transcript.text
    words = [w for s in transcript.segments for w in s.words]
    n_words = len(_WORD.findall(text))
    fillers = count_fillers(text)
    filler_count = sum(fillers.values())
    duration = duration_s if duration_s is not None else transcript.duration_s
    if not words:
        # typed answers: no timing, only text metrics
        return Delivery(duration_s=round(duration, 2), words=n_words, fillers=fillers,
                        filler_count=filler_count,
                        filler_rate=round(100 * filler_count / n_words, 1) if n_words else 0.0,
                        pause_threshold_s=pause_threshold_s)
    gaps = [b.start - a.end for a, b in zip(words, words[1:], strict=False)]
    long_gaps = [g for g in gaps if g >= pause_threshold_s]
    span = max(0.0, words[-1].end - words[0].start)
    speaking = max(0.0, span - sum(long_gaps))
    wpm = 60.0 * len(words) / speaking if speaking > 0 else 0.0
    pace = []
    t = words[0].start
    while t < words[-1].end:
        n = sum(1 for w in words if t <= w.start < t + window_s)
        pace.append(round(60.0 * n / window_s, 1))
        t += window_s
    return Delivery(
        duration_s=round(duration, 2),
        speaking_time_s=round(speaking, 2),
        words=len(words),
        wpm=round(wpm, 1),
        fillers=fillers,
        filler_count=filler_count,
        filler_rate=round(100 * filler_count / max(1, len(words)), 1),
        long_pauses=len(long_gaps),
        longest_pause_s=round(max(gaps, default=0.0), 2),
        pause_threshold_s=pause_threshold_s,
        pace=pace,
    )
