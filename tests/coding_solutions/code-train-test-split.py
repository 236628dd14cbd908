# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
import random


def train_test_split(items: list, test_ratio: float, seed: int) -> dict:
    if test_ratio < 0 or test_ratio > 1:
        raise ValueError("test_ratio must be within [0, 1]")
    n_test = round(len(items) * test_ratio)
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    return {"train": [items[i] for i in order[n_test:]],
            "test": [items[i] for i in order[:n_test]]}
