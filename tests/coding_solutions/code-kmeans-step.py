# Reference solution, written the way a candidate would (plain zip, no strict=).
# ruff: noqa: B905
def kmeans_step(points: list, centroids: list) -> dict:
    if not centroids:
        raise ValueError("no centroids")
    dim = len(centroids[0])
    if any(len(p) != dim for p in [*points, *centroids]):
        raise ValueError("dimension mismatch")
    labels = []
    for p in points:
        dists = [sum((a - b) ** 2 for a, b in zip(p, c)) for c in centroids]
        labels.append(dists.index(min(dists)))
    new = []
    for k, c in enumerate(centroids):
        members = [p for p, lab in zip(points, labels) if lab == k]
        if members:
            new.append([sum(col) / len(members) for col in zip(*members)])
        else:
            new.append([float(x) for x in c])
    return {"labels": labels, "centroids": new}
