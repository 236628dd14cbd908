# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
import math


def preprocess(rows: list, method: str = "zscore") -> list:
    if method not in ("zscore", "minmax"):
        raise ValueError(f"unknown method {method!r}")
    if not rows:
        return []
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("rows of different lengths")

    def missing(v):
        return v is None or (isinstance(v, float) and math.isnan(v))

    columns = []
    for j in range(width):
        observed = [float(r[j]) for r in rows if not missing(r[j])]
        if not observed:
            raise ValueError(f"column {j} has no observed value")
        fill = sum(observed) / len(observed)
        col = [fill if missing(r[j]) else float(r[j]) for r in rows]
        if method == "zscore":
            mean = sum(col) / len(col)
            std = math.sqrt(sum((x - mean) ** 2 for x in col) / len(col))
            col = [0.0 if std == 0 else (x - mean) / std for x in col]
        else:
            lo, hi = min(col), max(col)
            col = [0.0 if hi == lo else (x - lo) / (hi - lo) for x in col]
        columns.append(col)
    return [[columns[j][i] for j in range(width)] for i in range(len(rows))]
