# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def batched(iterable, size: int, drop_last: bool = False) -> list:
    if size < 1:
        raise ValueError("size must be at least 1")
    out, batch = [], []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            out.append(batch)
            batch = []
    if batch and not drop_last:
        out.append(batch)
    return out
