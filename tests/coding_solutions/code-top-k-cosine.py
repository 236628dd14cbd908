# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
import math


def top_k_similar(query: list, vectors: list, k: int) -> list:
    if k < 0:
        raise ValueError("k must be >= 0")
    qn = math.sqrt(sum(x * x for x in query))
    if qn == 0:
        raise ValueError("zero query vector")
    sims = []
    for v in vectors:
        if len(v) != len(query):
            raise ValueError("dimension mismatch")
        vn = math.sqrt(sum(x * x for x in v))
        sims.append(0.0 if vn == 0 else sum(a * b for a, b in zip(query, v)) / (qn * vn))
    order = sorted(range(len(vectors)), key=lambda i: (-sims[i], i))
    return order[:k]
