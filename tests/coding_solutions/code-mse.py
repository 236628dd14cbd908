# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
import math


def mean_squared_error(y_true: list, y_pred: list, squared: bool = True) -> float:
    if not y_true or len(y_true) != len(y_pred):
        raise ValueError("need equally long, non-empty lists")
    mse = sum((t - p) ** 2 for t, p in zip(y_true, y_pred)) / len(y_true)
    return mse if squared else math.sqrt(mse)
