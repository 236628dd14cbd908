# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def roc_auc(y_true: list, scores: list) -> float:
    if not y_true or len(y_true) != len(scores):
        raise ValueError("need equally long, non-empty lists")
    if any(t not in (0, 1) for t in y_true):
        raise ValueError("labels must be 0 or 1")
    pos = [s for t, s in zip(y_true, scores) if t == 1]
    neg = [s for t, s in zip(y_true, scores) if t == 0]
    if not pos or not neg:
        raise ValueError("AUC needs both classes")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
