"""Word lists: flatten a transcript into words and rebuild it after edits.

Part of the vocabulary pipeline; see :mod:`mockinterview.vocab`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mockinterview.schema import Correction, Segment, Transcript, Word

# ----------------------------------------------------------------------------- word lists


@dataclass
class _W:
    """A transcript word while we edit: its text, times, probability, and raw-word index."""

    word: str
    start: float
    end: float
    probability: float
    raw: int  # index in the raw word list of its first raw word
    seg: int
    changed: bool = False  # rewritten by this pass (its segment's text is rebuilt)
    fixed: bool = False  # written by an earlier pass: never changed again, so that every raw
    # word is changed at most once and the corrections replay in position order


def _flatten(t: Transcript) -> list[_W]:
    out: list[_W] = []
    if t.segments and any(s.words for s in t.segments):
        for si, s in enumerate(t.segments):
            for w in s.words:
                out.append(_W(w.word, w.start, w.end, w.probability, len(out), si))
    else:
        for text in t.text.split():
            out.append(_W(text, 0.0, 0.0, 1.0, len(out), 0))
    return out


def _raw_index_map(t: Transcript, words: list[_W]) -> None:
    """Give the current words of ``t`` their raw-word indices by replaying its corrections."""
    if not t.corrections:
        return
    raw_pos = 0
    cur = 0
    for c in sorted(t.corrections, key=lambda c: c.position):
        while raw_pos < c.position and cur < len(words):
            words[cur].raw = raw_pos
            raw_pos += 1
            cur += 1
        n_new = max(1, len(c.corrected.split()))
        for k in range(n_new):
            if cur + k < len(words):
                words[cur + k].raw = c.position
                words[cur + k].fixed = True
        cur += n_new
        raw_pos = c.position + max(1, len(c.original.split()))
    while cur < len(words):
        words[cur].raw = raw_pos
        raw_pos += 1
        cur += 1


def _rebuild(t: Transcript, words: list[_W], corrections: list[Correction]) -> Transcript:
    """A new Transcript from edited words; untouched segments keep their decoder text."""
    raw_text = t.raw_text if t.raw_text is not None else t.text
    all_corr = sorted(list(t.corrections) + corrections, key=lambda c: c.position)
    if not t.segments or not any(s.words for s in t.segments):
        text = " ".join(w.word for w in words)
        return t.model_copy(update={"text": text, "raw_text": raw_text, "corrections": all_corr})
    changed = {w.seg for w in words if w.changed}
    by_seg: dict[int, list[_W]] = {}
    for w in words:
        by_seg.setdefault(w.seg, []).append(w)
    segs: list[Segment] = []
    for si, s in enumerate(t.segments):
        ws = by_seg.get(si, [])
        new_words = [Word(word=w.word, start=w.start, end=w.end, probability=w.probability)
                     for w in ws]
        if si in changed or len(ws) != len(s.words):
            if not ws:
                continue  # every word moved into the previous segment by a merge
            text = _join(w.word for w in ws)
            start, end = min(s.start, ws[0].start), max(ws[-1].end, ws[0].start)
            segs.append(Segment(start=start, end=end, text=text, words=new_words))
        else:
            segs.append(Segment(start=s.start, end=s.end, text=s.text, words=new_words))
    text = " ".join(s.text for s in segs if s.text).strip()
    return t.model_copy(update={"text": text, "raw_text": raw_text, "corrections": all_corr,
                                "segments": segs})


def _join(words: Iterable[str]) -> str:
    """Words back into text the way Whisper wrote them: its word pieces "-means" and "'s" are
    glued to the word before ("k-means", not "k -means")."""
    out = ""
    for w in words:
        glue = out and w[:1] in "-'" and w[1:2].isalnum() and out[-1:].isalnum()
        out += w if glue else (" " if out else "") + w
    return out


_LEAD_PUNCT = re.compile(r"^[^\w]+")
_TRAIL_PUNCT = re.compile(r"[^\w]+$")


def _dress(term: str, first: str, last: str) -> str:
    """The term with the original's leading/trailing punctuation and sentence capital."""
    lead = _LEAD_PUNCT.match(first)
    trail = _TRAIL_PUNCT.search(last)
    core = term
    body = first[lead.end():] if lead else first
    if body[:1].isupper() and core[:1].islower() and core == core.lower():
        core = core[0].upper() + core[1:]
    trail_s = trail.group(0) if trail else ""
    if trail_s.startswith("'"):
        trail_s = ""
    return (lead.group(0) if lead else "") + core + trail_s


def _replace(words: list[_W], a: int, b: int, new_texts: list[str],
             times: list[tuple[float, float]] | None = None) -> list[_W]:
    """Replace words[a..b] (inclusive) by new words spanning the same time."""
    start, end = words[a].start, words[b].end
    seg = words[a].seg
    raw = words[a].raw
    prob = min(w.probability for w in words[a:b + 1])
    out: list[_W] = []
    if times is None:
        weights = [max(1, len(t)) for t in new_texts]
        total = sum(weights)
        t0 = start
        times = []
        for wt in weights:
            t1 = t0 + (end - start) * wt / total
            times.append((round(t0, 3), round(t1, 3)))
            t0 = t1
        times[-1] = (times[-1][0], end)
    for k, txt in enumerate(new_texts):
        out.append(_W(txt, times[k][0], times[k][1], prob, raw, seg, changed=True))
    return words[:a] + out + words[b + 1:]


