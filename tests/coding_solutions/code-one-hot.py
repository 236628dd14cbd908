# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def one_hot(values: list, categories: list | None = None) -> list:
    if categories is None:
        categories = sorted({v for v in values if v is not None})
    if len(set(categories)) != len(categories):
        raise ValueError("duplicate categories")
    index = {c: i for i, c in enumerate(categories)}
    rows = []
    for v in values:
        row = [0] * len(categories)
        if v is not None and v in index:
            row[index[v]] = 1
        rows.append(row)
    return rows
