# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def chunk_words(text: str, size: int, overlap: int = 0) -> list:
    if size < 1:
        raise ValueError("size must be at least 1")
    if overlap < 0 or overlap >= size:
        raise ValueError("overlap must be in [0, size)")
    words = text.split()
    chunks = []
    start = 0
    while start < len(words):
        chunks.append(" ".join(words[start:start + size]))
        if start + size >= len(words):
            break
        start += size - overlap
    return chunks
