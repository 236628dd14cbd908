# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def precision_recall_f1(y_true: list, y_pred: list, positive=1) -> dict:
    if not y_true or len(y_true) != len(y_pred):
        raise ValueError("need equally long, non-empty lists")
    tp = sum(1 for t, p in zip(y_true, y_pred) if t == positive and p == positive)
    fp = sum(1 for t, p in zip(y_true, y_pred) if t != positive and p == positive)
    fn = sum(1 for t, p in zip(y_true, y_pred) if t == positive and p != positive)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
