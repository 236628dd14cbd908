# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def mean_reciprocal_rank(ranked: list, relevant: list, k: int | None = None) -> float:
    if not ranked or len(ranked) != len(relevant):
        raise ValueError("need one relevant list per query, and at least one query")
    if k is not None and k < 1:
        raise ValueError("k must be at least 1")
    total = 0.0
    for results, rel in zip(ranked, relevant):
        wanted = set(rel)
        for pos, item in enumerate(results[:k] if k is not None else results, start=1):
            if item in wanted:
                total += 1.0 / pos
                break
    return total / len(ranked)
