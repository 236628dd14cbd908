# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
import math


def cross_entropy(y_true: list, probs: list, eps: float = 1e-12) -> float:
    if not y_true or len(y_true) != len(probs):
        raise ValueError("need equally long, non-empty inputs")
    total = 0.0
    for label, row in zip(y_true, probs):
        if label < 0 or label >= len(row):
            raise ValueError(f"label {label} out of range")
        total -= math.log(max(row[label], eps))
    return total / len(y_true)
