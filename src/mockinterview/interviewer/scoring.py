"""Scoring signals shared by the brains: text matching, key-point coverage, delivery metrics.

The offline engine (:mod:`mockinterview.interviewer.offline`) turns these signals into rubric
levels; the LLM engine uses :func:`verify_quotes` to keep only evidence that really occurs in the
transcript.
Everything here is deterministic and pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mockinterview.schema import Delivery, KeyPoint, Misconception, Question, Transcript

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
            if suf == "es" and not w[:-2].endswith(("s", "x", "z", "ch", "sh")):
                suf = "s"  # "haves" -> "have" like "have", not "hav"; "boxes" -> "box"
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


# Words a speaker uses for the same idea in an interview. Paraphrase matching (never phrasing
# matching, which stays literal) treats the stems of one group as the same word, so "I studied
# statistics" covers "education" and "what draws me to this team" covers "motivation".
SYNONYM_GROUPS: list[tuple[str, ...]] = [
    ("education", "degree", "master", "masters", "bachelor", "phd", "studied", "graduated",
     "university", "studies"),
    ("motivation", "motivated", "interested", "interest", "excited", "draws", "drawn", "passion",
     "attracted", "applying", "why"),
    ("company", "organisation", "organization", "firm", "employer", "team"),
    ("experience", "worked", "years", "career"),
    ("error", "loss", "mistake", "mistakes"),
    ("predict", "prediction", "forecast", "estimate"),
    ("label", "labels", "target", "targets", "annotation", "annotated", "outcome"),
    ("feature", "features", "input", "inputs", "variable", "variables", "column", "columns"),
    ("improve", "increase", "boost", "raise", "raised", "lift", "rose", "grew", "better"),
    ("reduce", "decrease", "lower", "cut", "drop", "dropped", "fell", "shrink"),
    ("evaluate", "evaluation", "measure", "metric", "metrics", "assess", "score"),
    ("deploy", "deployment", "ship", "shipped", "launch", "launched", "release", "rollout"),
    ("monitor", "monitoring", "alert", "alerts", "track", "tracking", "watch", "dashboard"),
    ("user", "users", "customer", "customers", "client", "clients"),
    ("fast", "quick", "quickly", "latency", "speed"),
    ("big", "large", "huge", "massive"),
    ("simple", "simpler", "basic", "baseline"),
    ("data", "dataset", "datasets", "examples", "samples"),
    ("train", "training", "fit", "fitting", "learn", "learned"),
    ("result", "outcome", "impact"),
    ("achievement", "proudest", "accomplishment", "success"),
    ("current", "currently", "now", "today"),
    ("project", "projects", "initiative", "work"),
    ("stakeholder", "stakeholders", "manager", "business", "product"),
    ("agree", "agreed", "compromise", "compromised", "consensus", "resolved", "resolution"),
    ("understand", "listened", "perspective", "viewpoint", "reasoning", "concern", "concerns"),
    ("cause", "reason", "because", "root"),
    ("lesson", "learned", "learnt", "takeaway", "reflection"),
]


def _synonym_index() -> dict[str, int]:
    index: dict[str, int] = {}
    for gi, group in enumerate(SYNONYM_GROUPS):
        for w in group:
            index.setdefault(stem(w), gi)
    return index


_SYNONYM_OF = _synonym_index()


def _same_meaning(a: str, b: str) -> bool:
    if _same(a, b):
        return True
    ga = _SYNONYM_OF.get(a)
    return ga is not None and ga == _SYNONYM_OF.get(b)


_EXAMPLE_SPLIT = re.compile(r"\bsuch as\b|\be\.g\.|\bfor example\b|\bfor instance\b|:|\(",
                            re.IGNORECASE)


def point_alternatives(point: str) -> list[str]:
    """Short concrete phrases a key point names as examples ("..., such as X, Y or Z").

    Naming one of the examples covers the point the way a coach hears it: "obstacles such as
    missing data or shifting requirements" is covered by an answer that names "missing data".
    Only alternatives of one to four words are returned, so vague ones stay out.
    """
    parts = _EXAMPLE_SPLIT.split(point, maxsplit=1)
    if len(parts) < 2:
        return []
    tail = re.sub(r"[).]", " ", parts[1])
    out = []
    for chunk in re.split(r",|\bor\b|\band\b|;", tail):
        words = [w for w in _WORD.findall(chunk) if w.lower() not in ("a", "an", "the")]
        if 1 <= len(words) <= 4 and any(w.lower() not in STOPWORDS for w in words):
            if len(words) == 1 and len(words[0]) < 5:
                continue
            out.append(" ".join(words))
    return out


@dataclass
class PointMatch:
    key_point: str
    covered: bool
    how: str = ""  # "phrasing" or "paraphrase"
    evidence: str = ""
    span: tuple[int, int] | None = None
    partial: bool = False  # not covered, but a clause of the point is mostly there


def match_key_point(tokens: Tokens, kp: KeyPoint, paraphrase_share: float = 0.6) -> PointMatch:
    """Covered when an accepted phrasing occurs, or most of the point's content words occur
    close together (a paraphrase of the point itself)."""
    for ph in kp.phrasings:
        # spoken answers insert a word or two ("an upstream table changed" for "upstream change")
        hit = find_phrase(tokens, ph, max_gap=2)
        if hit:
            return PointMatch(kp.id, True, "phrasing", tokens.quote(*hit), hit)
    for alt in point_alternatives(kp.point):
        hit = find_phrase(tokens, alt)
        if hit:
            return PointMatch(kp.id, True, "example", tokens.quote(*hit), hit)
    want = content_stems(kp.point)
    if len(want) >= 3 and tokens.stems:
        window = max(12, 2 * len(want) + 6)
        n = len(tokens.stems)
        best, best_span = 0.0, None
        for start in range(0, max(1, n - window + 1), 2):
            seg = tokens.stems[start: start + window]
            found = [w for w in want if any(_same_meaning(w, s) for s in seg)]
            share = len(found) / len(want)
            if share > best:
                best, best_span = share, (start, min(n, start + window) - 1)
        if best >= paraphrase_share and best_span and len(want) * best >= 3:
            i, j = best_span
            return PointMatch(kp.id, True, "paraphrase", tokens.quote(i, j), best_span)
    for clause in point_clauses(kp.point):
        want = content_stems(clause)
        if len(want) < 3 or not tokens.stems:
            continue
        n = len(tokens.stems)
        window = max(12, 2 * len(want) + 6)
        for start in range(0, max(1, n - window + 1), 2):
            seg = tokens.stems[start: start + window]
            hits = sum(1 for w in want if any(_same_meaning(w, s) for s in seg))
            if hits >= 3 and hits / len(want) >= paraphrase_share:
                span = (start, min(n, start + window) - 1)
                return PointMatch(kp.id, False, "partial", tokens.quote(*span), span, partial=True)
    return PointMatch(kp.id, False)


def point_clauses(point: str) -> list[str]:
    """The clauses of a compound key point ("X does A, and Y does B"): an answer that states one
    of them has half-covered the point."""
    parts = [p.strip() for p in re.split(r"[;,]|\bwhile\b|\bwhereas\b|"
                                         r"\band (?=to |it |they |then |the )", point)]
    return [p for p in parts if p] if len(parts) > 1 else []


# verbs that only link a misconception's subject and claim ("X means Y", "X is when Y")
_LINKING = frozenset(stem(w) for w in "means mean refers refer called call happens happen is are "
                     "when where just basically always".split())
_DISTANCING = re.compile(r"\b(?:not|never|isn't|aren't|doesn't|don't|wasn't|no longer|myth|"
                         r"misconception|mistake to|wrong to|people think|some people|"
                         r"it's wrong|incorrect|false that)\b", re.IGNORECASE)


def _content_positions(tokens: Tokens) -> list[int]:
    return [i for i, w in enumerate(tokens.lower) if w not in STOPWORDS and len(w) > 1]


def _claim_hit(tokens: Tokens, claim: str) -> tuple[int, int] | None:
    """The claim's content words in order, in one sentence, at most two content words apart."""
    want = [stem(w) for w in _WORD.findall(claim)
            if w.lower() not in STOPWORDS and stem(w) not in _LINKING]
    if len(want) < 2:
        return None
    pos = _content_positions(tokens)
    stems = [tokens.stems[i] for i in pos]
    for start, s0 in enumerate(stems):
        if not _same(s0, want[0]):
            continue
        k, ok = start, True
        for w in want[1:]:
            nxt = next((j for j in range(k + 1, min(len(stems), k + 4)) if _same(stems[j], w)),
                       None)
            if nxt is None or tokens.sentence_of[pos[nxt]] != tokens.sentence_of[pos[start]]:
                ok = False
                break
            k = nxt
        if ok:
            return pos[start], pos[k]
    return None


def find_misconceptions(tokens: Tokens, question: Question) -> list[str]:
    """Misconceptions the answer states as its own claim (not ones it names in order to reject).

    A misconception matches as written, or by its content words in order within one sentence
    ("overfitting is when the model is too simple" states "overfitting means the model is too
    simple"). A sentence that distances itself ("a common myth is...", "it's not true that...")
    does not count.
    """
    out: list[tuple[Misconception, str]] = []
    for m, phrasing in ((mc, p) for mc in question.misconceptions for p in mc.phrasings):
        hit = find_phrase(tokens, phrasing, max_gap=2) or _claim_hit(tokens, phrasing)
        if not hit or any(o is m for o, _ in out):
            continue
        s0, s1 = tokens.sentences[tokens.sentence_of[hit[0]]]
        if _DISTANCING.search(tokens.text[s0:s1]):
            continue
        out.append((m, tokens.quote(*hit)))
    return [quote for _, quote in out]


# ----------------------------------------------------------------------------- answer shape

INJECTION = re.compile(
    r"ignore (?:all |any |the |your |previous |prior |above )*"
    r"(?:instructions|rubric|rules|criteria)"
    r"|(?:give|award|grade|score|rate) (?:me|this|this answer|my answer|it)? ?(?:a |an |the )?"
    r"(?:five|5|full|maximum|max|perfect|highest|top (?:marks?|scores?|grades?|levels?|ratings?))\b"
    r"|\b(?:five|5) out of (?:five|5)\b|\bfull marks\b"
    r"|\bsystem (?:prompt|message|override)\b|^\s*system\s*:|(?-i:\bSYSTEM\s*:)|\byou are now\b"
    r"|\brecord (?:a |the )?(?:level|score|grade|mark) (?:of )?(?:5|five)\b"
    r"|\bas (?:the|your) (?:grader|system|administrator|developer)\b"
    r"|\bnew instructions?\b|\bdisregard (?:the|all|previous)\b"
    r"|\b(?:dear|attention|note to the|note to|hello|hi) (?:evaluator|grader|assessor|examiner|"
    r"reviewer|scorer|marker|model|ai|llm|judge)\b"
    r"|\b(?:deserves?|merits?|warrants?|earns?|should get|should receive) (?:the |a )?"
    r"(?:highest|top|maximum|max|full|best|perfect) (?:mark|score|grade|rating|level)s?\b"
    r"|\brecord (?:this|it|my answer|this answer|this response)\b[^.]{0,30}\bas "
    r"(?:excellent|perfect|outstanding|a (?:5|five)|five|5)\b"
    r"|\bpre-?approved\b|<\s*/?\s*system\b"
    r"|\b(?:grade|score|level|rating)\s*[:=]\s*(?:5|five)\b"
    r"|\bdo not apply (?:any )?(?:caps?|penalt)"
    r"|\b(?:score|rate|grade|mark) (?:every|each|all)"
    r" (?:criteri(?:on|a)|dimensions?|categor(?:y|ies))"
    r" (?:at|as|with|to) (?:the )?(?:top|highest|maximum|max|full|best)"
    r"|\btreat (?:it|this|my answer|this answer) as (?:a |the )?"
    r"(?:model|perfect|ideal|reference) answer"
    r"|\bto test the (?:grader|scorer|grading|scoring|evaluator|evaluation system)\b",
    re.IGNORECASE | re.MULTILINE,
)


_QUOTED = re.compile(r"[\"“”]([^\"“”\n]{1,200})[\"“”]")
_TOPIC_ONLY = re.compile(r"^system (?:prompt|message)$", re.IGNORECASE)
# a transcript has no quotation marks: an attack named as an example is said after a verb of
# saying or an "e.g." ("direct injection is the user typing ignore previous instructions"); a
# grade-5 answer of heldout-5 about prompt injection was capped at 2 for it
_SPOKEN_EXAMPLE = re.compile(
    r"\b(?:typ(?:e|es|ed|ing)|writ(?:e|es|ing)|wrote|say(?:s|ing)?|said|paste[sd]?|pasting|"
    r"hid(?:e|es|den|ing)|embed(?:s|ded|ding)?|contain(?:s|ed|ing)?|includ(?:e|es|ed|ing)|"
    r"such as|something like|things like|phrases? like|text like|e\.?g\.?|for example|"
    r"for instance)\W+(?:\w+\W+){0,2}$", re.IGNORECASE)
_ATTACK_NAMED = re.compile(r"ignore|disregard|new instruction|you are now", re.IGNORECASE)


def injection_attempts(text: str) -> list[str]:
    """Phrases that instruct the grader. Not counted: an attack the answer quotes as an example
    ('a user types "ignore previous instructions"', or spoken without quotation marks after a
    verb of saying or "for example"), and "the system prompt" as a thing talked
    about (prefix caching of the shared system prompt) rather than a heading ("SYSTEM PROMPT:")."""
    quoted = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(text)]
    out = []
    for m in INJECTION.finditer(text):
        if any(a <= m.start() and m.end() <= b for a, b in quoted):
            continue
        if _TOPIC_ONLY.match(m.group(0)) and not re.match(r"\s*:", text[m.end():]):
            continue
        if _ATTACK_NAMED.match(m.group(0)) \
                and _SPOKEN_EXAMPLE.search(text[max(0, m.start() - 40): m.start()]):
            continue  # an asked-for grade ("give me five") is never an example: still counted
        out.append(m.group(0))
    return out


def strip_repetition_loops(text: str, min_repeats: int = 3, max_ngram: int = 4
                           ) -> tuple[str, list[str]]:
    """Remove speech-recogniser loops ("log n log n log n ...") and return (text, loops removed).

    A decoder stuck on a phrase repeats it many times in a row; no speaker says the same one to
    four words three times running, so the repeats are an artefact, not part of the answer. The
    first occurrence stays.
    """
    spans = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]
    words = [w for _, _, w in spans]
    drop: list[tuple[int, int]] = []  # word index ranges to remove
    loops: list[str] = []
    i = 0
    while i < len(words):
        found = False
        for n in range(1, max_ngram + 1):
            gram = words[i:i + n]
            if len(gram) < n:
                break
            reps = 1
            while words[i + reps * n: i + (reps + 1) * n] == gram:
                reps += 1
            if reps >= min_repeats:
                drop.append((i + n, i + reps * n))
                loops.append(f"'{' '.join(gram)}' x{reps}")
                i += reps * n
                found = True
                break
        if not found:
            i += 1
    if not drop:
        return text, []
    out, pos = [], 0
    for a, b in drop:
        start = spans[a][0]
        end = spans[b - 1][1]
        out.append(text[pos:start].rstrip())
        pos = end
    out.append(text[pos:])
    return " ".join(p for p in out if p).strip(), loops


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
    r"\bfor (?:example|instance)\b", r"\bsuch as\b", r"\be\.?g\.?\b",
    r"\bin my (?:last|previous|current)\b",
    r"\bwe (?:used|built|trained|deployed|measured|found|saw)\b",
    r"\bi (?:used|built|trained|deployed|measured|found)\b",
    r"\btrade-?offs?\b", r"\bon the other hand\b", r"\bwhereas\b", r"\bhowever\b",
    r"\bdepends on\b",
    r"\bbecause\b", r"\bwhich means\b", r"\bso that\b", r"\bin practice\b", r"\bthe downside\b",
    r"\bcompared (?:to|with)\b", r"\bunless\b", r"\bif the\b", r"\bwhen the\b",
]
_SPECIFIC_RE = [re.compile(p, re.IGNORECASE) for p in SPECIFICS]
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|percent|ms|milliseconds|seconds|x|times|k|m|gb)?\b",
                     re.IGNORECASE)


def specifics_count(text: str) -> int:
    return sum(len(r.findall(text)) for r in _SPECIFIC_RE) + min(4, len(_NUMBER.findall(text)))


# ----------------------------------------------------------------------------- depth signals

_MARKERS = {
    "examples": [r"\bfor (?:example|instance)\b", r"\bsuch as\b", r"\be\.?g\.", r"\blike an? \w+",
                 r"\bsay,? (?:a|an|\d|one|two|three|four|five|ten|a hundred)\b",
                 r"\bimagine\b", r"\bin the case of\b"],
    "reasons": [r"\bbecause\b", r"\bsince (?:the|it|we|a|there)\b", r"\bso that\b",
                r"\bwhich means\b",
                r"\bthat's why\b", r"\bwhich is why\b", r"\bthe reason\b", r"\botherwise\b",
                r"\bto (?:avoid|prevent|stop|keep|make sure)\b",
                r"\bthis (?:prevents|stops|means)\b"],
    "tradeoffs": [r"\btrade-?offs?\b", r"\bhowever\b", r"\bwhereas\b", r"\binstead of\b",
                  r"\brather than\b", r"\bdepends? on\b", r"\bunless\b",
                  r"\bthe (?:cost|downside|catch|"
                  r"risk|caveat|limitation|subtlety) (?:is|was)\b",
                  r"\bat the (?:expense|cost) of\b",
                  r"\bon the other hand\b", r"\bcompared (?:to|with)\b", r"\bone caveat\b",
                  r"\bone subtlety\b", r"\btoo (?:high|low|much|little|many|few)\b",
                  r"\b(?:cheaper|simpler|slower|faster|safer|harder) (?:than|but|and)\b",
                  r"\bwhen (?:to|not to)\b",
                  r"\bif (?:the|you|we|it)\b[^.]{3,60}\b(?:then|use|i'd|i would)\b"],
    "experience": [r"\bin my (?:last|previous|current|first) (?:\w+ )?(?:job|role|team|project"
                   r"|company)\b",
                   r"\bon (?:a|one|our|my) [\w -]{0,40}(?:project|model|team"
                   r"|system)\b[^.]{0,40}\b(?:i|we)\b",
                   r"\bwe (?:used|built|trained|deployed|measured|found|saw|had|got|cut|ran"
                   r"|shipped)\b",
                   r"\bi (?:once|used|built|trained|deployed|measured|found|saw|ran|tested"
                   r"|shipped)\b",
                   r"\bin (?:practice|production)\b", r"\blast (?:year|quarter|month)\b"],
}
_MARKER_RE = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in _MARKERS.items()}
_UNITS = frozenset("""percent per ms milliseconds millisecond seconds second minutes minute
hours hour
days day weeks week months month years year users requests qps rps tokens documents articles items
products rows points x times k m million thousand hundred billion dollars euros gb mb tb gpus gpu
transactions features layers epochs queries""".split())


@dataclass
class DepthSignals:
    """What makes an answer concrete: quantities, examples, reasons, trade-offs, first-hand
    experience and technical vocabulary used in sentences."""

    quantities: int = 0
    examples: int = 0
    reasons: int = 0
    tradeoffs: int = 0
    experience: int = 0
    terms: int = 0

    def total(self) -> float:
        # each kind saturates, so one habit ("because" in every sentence) cannot carry depth alone
        return (min(4, self.quantities) + min(3, self.examples) + min(3, self.reasons)
                + min(3, self.tradeoffs) + min(3, self.experience) + min(3, self.terms / 3))

    def describe(self) -> str:
        parts = [f"{self.quantities} numbers", f"{self.examples} examples",
                 f"{self.reasons} reasons",
                 f"{self.tradeoffs} trade-offs", f"{self.experience} first-hand",
                 f"{self.terms} terms"]
        return ", ".join(parts)


def count_quantities(text: str) -> int:
    """Numbers that carry information: spoken or written, decimals, or with a unit.

    Small whole numbers ("two kinds", "one of the reasons") are counting words in speech, so
    numbers below ten count only as a decimal ("point five") or with a unit ("three weeks").
    """
    from mockinterview.textnorm import normalize

    words = normalize(text)
    n = 0
    for i, w in enumerate(words):
        if not w.isdigit():
            continue  # "l1", "p99", "gpt4" are names; their digits are not figures
        if i > 0 and words[i - 1] == "point":
            if i > 1 and words[i - 2].isdigit():
                continue  # "3 point 5": the digits after "point" belong to that number
            n += 1  # "point nine" on its own is a figure
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w.isdigit() and int(w) < 10 and nxt not in _UNITS and nxt != "point":
            continue  # "two kinds of error", "one of the reasons": counting words, not figures
        n += 1
    return n


def depth_signals(text: str, vocabulary: list[str] | None = None, tokens: Tokens | None = None
                  ) -> DepthSignals:
    tokens = tokens or Tokens.of(text)
    sig = DepthSignals(quantities=count_quantities(text))
    for kind, regs in _MARKER_RE.items():
        setattr(sig, kind, sum(len(r.findall(text)) for r in regs))
    seen = set()
    for term in vocabulary or []:
        key = " ".join(phrase_tokens(term))
        if key and key not in seen and find_phrase(tokens, term, max_gap=0):
            seen.add(key)
    sig.terms = len(seen)
    return sig


STAR = {
    "situation": [r"\bthe situation\b", r"\bat my (?:previous|last|current|old) \w+",
                  r"\bwhen i was\b",
                  r"\bwe were\b", r"\bi was working\b", r"\bcontext\b", r"\bback (?:in|when)\b",
                  r"\bat (?:a|an|my) \w+ (?:company|startup|job|team|bank|firm)\b",
                  r"\bi worked (?:at|on)\b"],
    "task": [r"\bmy (?:role|task|job|responsibility|goal)\b",
             r"\bi was (?:responsible|asked|tasked|in charge)\b",
             r"\bthe (?:goal|task|objective|challenge) was\b", r"\bi (?:had|needed) to\b",
             r"\bi owned\b"],
    "action": [r"\bi (?:decided|built|wrote|proposed|set up|organi[sz]ed|talked|met|created"
               r"|designed|"
               r"prioriti[sz]ed|started|led|ran|added|changed|implemented|introduced|negotiated|"
               r"scheduled|split|broke|asked|reached out|escalated|refactored|automated"
               r"|analy[sz]ed)\b"],
    "result": [r"\bas a result\b", r"\bin the end\b", r"\bthe (?:result|outcome|impact)\b",
               r"\b(?:reduced|increased|improved|cut|saved|grew|raised|lowered|shipped|delivered"
               r"|launched)\b",
               r"\b\d+(?:\.\d+)?\s*(?:%|percent)", r"\bon time\b", r"\bended up\b"],
    "reflection": [r"\bi learned\b", r"\bi learnt\b", r"\bnext time\b", r"\bin hindsight\b",
                   r"\blooking back\b", r"\bi would (?:now|do)\b", r"\blesson\b", r"\btaught me\b",
                   r"\bsince then\b", r"\bnow i\b"],
}
STAR["situation"] += [
    r"\bin my (?:last|previous|current|first|old) (?:\w+ )?(?:job|role|team|company|position)\b",
    r"\b(?:last|one|that) (?:year|quarter|summer|spring|autumn|winter)\b", r"\bonce,? (?:we|i)\b",
    r"\bat (?:my )?(?:previous|last|current|former) (?:company|job|employer|team|role)\b",
    r"\bwe had (?:to|a|an|only|just|\w+ (?:days|weeks|months))\b", r"\bthere was an? \w+",
    r"\b(?:a|my|one) (?:colleague|teammate|manager|stakeholder|client)\b[^.]{0,40}\b(?:wanted"
    r"|asked|"
    r"needed|and i)\b", r"\bthe (?:situation|context|problem|project) was\b"]
STAR["task"] += [r"\bmy (?:task|job|role|part|responsibility) (?:was|is)\b", r"\bi owned\b",
                 r"\bi was (?:the|in charge|responsible|asked|tasked|leading)\b", r"\bi led\b",
                 r"\b(?:it|the decision) (?:was|rested) (?:on|up to) me\b", r"\bmy goal\b"]
STAR["result"] += [r"\b(?:dropped|fell|rose|went (?:up|down)|beat|adopted|started using|went live|"
                   r"met the deadline|went well|shipped|closed)\b", r"\bby (?:\d+|\w+) percent\b"]
STAR["reflection"] += [r"\bwhat i learned\b", r"\bi realised\b", r"\bi realized\b",
                       r"\bi now\b", r"\bi'd do differently\b", r"\bi would do differently\b"]
_STAR_RE = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in STAR.items()}
# first-person past-tense verbs: what the candidate did, the A of STAR
_I_DID = re.compile(r"\bi (?:then |also |first |quickly |personally |immediately )?"
                    r"(?:\w{2,}ed|ran|wrote|built|met|told|set|took|made|put|cut|broke|dug|spent"
                    r"|kept|"
                    r"chose|found|got|gave|drew|led|sent|went|brought|held|saw|began|sat|paired|"
                    r"shipped|split|rewrote|rebuilt|sought|taught)\b", re.IGNORECASE)
_NOT_ACTIONS = re.compile(r"\bi (?:used to|wanted|needed|learned|learnt|guess|believed|thought|"
                          r"realised|realized|liked|loved|enjoyed|hoped|worked)\b", re.IGNORECASE)
_HABITUAL = re.compile(r"\bi (?:usually|always|generally|normally|tend to|try to|would|just)\b|"
                       r"\bwhenever\b|\bi'm (?:a|very|really)\b", re.IGNORECASE)


def first_person_actions(text: str) -> int:
    """How many things the speaker says they did ("I decided", "I ran", "I wrote")."""
    return len(_I_DID.findall(text)) - len(_NOT_ACTIONS.findall(text))


def ownership(text: str) -> tuple[int, int]:
    """(first-person singular mentions, "we" mentions): who did the work in the story."""
    low = text.lower()
    return (len(re.findall(r"\b(?:i|i'm|i've|i'd|my|me)\b", low)),
            len(re.findall(r"\b(?:we|we're|we've|our|us)\b", low)))


def is_hypothetical(text: str) -> bool:
    """Describes what they usually do instead of telling one story from the past."""
    return len(_HABITUAL.findall(text)) >= 1 and first_person_actions(text) < 2


ARC = {
    "past": [r"\b(?:i )?(?:studied|graduated|did my|have an? (?:master|bachelor|phd|degree))",
             r"\b(?:master|bachelor|phd|degree)\b", r"\bbefore that\b",
             r"\bstarted (?:my|as|out)\b",
             r"\bi (?:spent|worked)\b", r"\b(?:\w+) years (?:as|at|of)\b",
             r"\bafter (?:that|university)\b"],
    "present": [r"\b(?:right now|currently|at the moment|these days|today)\b", r"\bnow i\b",
                r"\bi'm (?:a|an|now|currently|working|leading)\b",
                r"\bi (?:lead|work|own|manage) \w+",
                r"\bfor the (?:last|past) \w+ (?:years|months)\b", r"\bmy current\b"],
    "outcome": [r"\b(?:proudest|most proud|stand ?out|highlight)\b", r"\bpercent\b|%",
                r"\b(?:cut|raised|reduced|increased|improved|grew|saved)\b[^.]{0,60}\b(?:by|from"
                r"|to)\b"],
    "motivation": [r"\b(?:interested in|excited about|draws me|drawn to|attracts me|applying)\b",
                   r"\bwhy (?:i'm|i am)\b", r"\bi(?:'m| am) looking for\b", r"\bi want to\b",
                   r"\bthis (?:role|position|job|team|company)\b",
                   r"\byour (?:team|company|work)\b"],
}
_ARC_RE = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in ARC.items()}


def intro_arc(text: str) -> dict[str, int]:
    """Where the introduction's parts first appear (character offsets): past, present, an
    outcome and the motivation for this role. A strong introduction has all four, past first and
    motivation last."""
    out: dict[str, int] = {}
    for part, regs in _ARC_RE.items():
        hits = [m.start() for r in regs for m in [r.search(text)] if m]
        if hits:
            out[part] = min(hits)
    return out


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


SIGNPOSTS = re.compile(r"\b(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|finally|to (?:sum"
                       r"|summari[sz]e)|"
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
