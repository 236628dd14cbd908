"""Read a job description or a CV: plain text, Markdown or PDF, checked before anything uses it.

Why so careful: these files come from anywhere (a PDF export of a careers page, a CV written in a
word processor) and they end up quoted in spoken questions and, with the LLM engine, sent to a
model. So a file that is empty, binary, huge, unreadable or in another language is refused with a
one-line :class:`~mockinterview.errors.DocumentError` naming the file and the problem, and the
interview can still run on the role profile alone.

PDF text comes from pypdf (a maintained, pure-Python library; optional extra ``pdf``), never from a
hand-written parser. Markdown is reduced to its words (headings, emphasis, links) but its lines are
kept, since the tailoring reads headings ("Nice to have") and bullets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mockinterview.errors import DocumentError

MAX_TEXT_BYTES = 200_000  # a long job advert is 10-20 kB; a CV 5-30 kB
MAX_PDF_BYTES = 10_000_000
MAX_PDF_PAGES = 30
MIN_WORDS = 20

# the most frequent function words per language; a text's share of each tells its language
_STOPWORDS = {
    "en": set("the and of to a in for with is on you we our are be as your will this that or at "
              "an by from have it can".split()),
    "fr": set("le la les de des du et en un une pour avec est dans nous vous sur au aux par "
              "qui que une".split()),
    "de": set("der die das und mit für von zu ist ein eine den im wir sie auf nicht des dem "
              "bei".split()),
    "es": set("el la los las de del y en un una para con es por que su nuestro se al "
              "como".split()),
    "it": set("il lo la gli le di del e in un una per con che sono nel della al dei da "
              "come".split()),
    "pt": set("o a os as de do da e em um uma para com que no na por se ao dos".split()),
}


@dataclass
class Document:
    """The text of one job description or CV, with what the reader noticed."""

    path: Path
    kind: str  # "text", "markdown" or "pdf"
    text: str
    raw: bytes  # the file as given, stored in the session folder
    language: str = "en"
    notes: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(self.text.split())


def read_document(path: Path, what: str = "--job") -> Document:
    """The document's text, or DocumentError: ``--job FILE: what is wrong``."""
    path = Path(path)
    label = f"{what} {path}"
    try:
        if path.is_dir():
            raise DocumentError(f"{label}: is a folder, not a file")
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(f"{label}: no such file") from None
    except OSError as e:
        raise DocumentError(f"{label}: cannot read ({e.strerror})") from None
    is_pdf = path.suffix.lower() == ".pdf"
    limit = MAX_PDF_BYTES if is_pdf else MAX_TEXT_BYTES
    if size > limit:
        raise DocumentError(f"{label}: too large ({size:,} bytes; the limit is {limit:,})")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"{label}: cannot read ({e.strerror})") from None
    if not raw.strip():
        raise DocumentError(f"{label}: the file is empty")
    if raw.startswith(b"%PDF"):
        text = _pdf_text(raw, label)
        kind = "pdf"
    elif is_pdf:
        raise DocumentError(f"{label}: named .pdf but is not a PDF file")
    else:
        if b"\x00" in raw[:8192]:
            raise DocumentError(f"{label}: binary data, not text (give a .txt, .md or .pdf file)")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise DocumentError(f"{label}: line {line}: not UTF-8 text") from None
        kind = "markdown" if path.suffix.lower() in (".md", ".markdown") else "text"
        if _control_share(text) > 0.05:
            raise DocumentError(f"{label}: binary data, not text (give a .txt, .md or .pdf file)")
        if kind == "markdown":
            text = markdown_to_text(text)
    text = _tidy(text)
    n = len(text.split())
    if n == 0:
        raise DocumentError(f"{label}: no text found" + (" (a scanned PDF? it needs OCR)"
                                                       if kind == "pdf" else ""))
    doc = Document(path=path, kind=kind, text=text, raw=raw)
    doc.language = guess_language(text)
    if n < MIN_WORDS:
        doc.notes.append(f"{path.name}: only {n} words; there is little to tailor to")
    if doc.language != "en":
        doc.notes.append(f"{path.name}: looks written in "
                         f"{LANGUAGE_NAMES.get(doc.language, doc.language)}, "
                         "not English; its terms are matched in English only")
    return doc


LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish",
                  "it": "Italian", "pt": "Portuguese"}


def guess_language(text: str) -> str:
    """The language whose function words are most frequent (English when too few words)."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    if len(words) < 8:
        return "en"
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    best = max(counts, key=lambda k: counts[k])
    if counts[best] == 0 or counts[best] <= counts["en"] * 1.2:
        return "en"
    return best


def _pdf_text(raw: bytes, label: str) -> str:
    try:
        import pypdf
    except ImportError:
        raise DocumentError(f"{label}: reading PDF needs pypdf: pip install 'mockinterview[pdf]'"
                            ) from None
    import io
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                ok = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
            except Exception:  # noqa: BLE001 - pypdf raises several types here
                ok = False
            if not ok:
                raise DocumentError(f"{label}: the PDF is password-protected")
        pages = reader.pages
        if len(pages) > MAX_PDF_PAGES:
            raise DocumentError(f"{label}: {len(pages)} pages; the limit is {MAX_PDF_PAGES}")
        return "\n".join((p.extract_text() or "") for p in pages)
    except DocumentError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken PDF raises anything from pypdf
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DocumentError(f"{label}: not a readable PDF ({first[:120]})") from None


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text[:20000] if ord(c) < 32 and c not in "\n\r\t\f")
    return bad / min(len(text), 20000)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def markdown_to_text(md: str) -> str:
    """Markdown's words, one line per line: headings lose their '#', links keep their text."""
    out = []
    in_code = False
    for line in md.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        line = _MD_LINK.sub(r"\1", line)
        line = re.sub(r"^\s{0,3}#{1,6}\s*", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        line = re.sub(r"^\s*([-*+]|\d+[.)])\s+", "- ", line)
        line = _MD_EMPH.sub(r"\2", line)
        line = line.replace("|", " ")
        out.append(line)
    return "\n".join(out)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    # bullets as PDFs and word processors write them: one form, "- ", for the readers of lines
    text = re.sub(r"(?m)^[ \t]*"
                  r"[\u2022\u25cf\u25aa\u25e6\u2023\u2219\u2013\u00b7][ \t]*", "- ", text)
    return text.strip()
