"""Agreement between two graders on a 1-5 scale: Spearman, quadratic weighted kappa, MAE.

Written here rather than imported from scipy/sklearn so the project keeps no heavy dependency for
a few lines of arithmetic, and so the definitions (average ranks for ties; kappa undefined when
neither grader varies) are stated where they are used. All functions are pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks starting at 1; tied values share the mean of the ranks they occupy."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean_rank
        i = j + 1
    return ranks


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation; None when either side has no variance (the correlation is undefined)."""
    if len(x) != len(y):
        raise ValueError("pearson: the two sequences differ in length")
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson on average ranks (the tie-correct form, not the 6Σd² shortcut)."""
    return pearson(average_ranks(x), average_ranks(y))


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], lo: int = 1, hi: int = 5
                             ) -> float | None:
    """Cohen's kappa with quadratic weights over the categories lo..hi.

    1 means perfect agreement, 0 agreement at chance level; None when the expected disagreement is
    zero (both graders always give the same single grade), where kappa is undefined.
    """
    if len(a) != len(b):
        raise ValueError("kappa: the two sequences differ in length")
    n = len(a)
    if n == 0:
        return None
    k = hi - lo + 1
    for v in (*a, *b):
        if not lo <= v <= hi:
            raise ValueError(f"kappa: grade {v} is outside {lo}-{hi}")
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[x - lo][y - lo] += 1
    hist_a = [sum(row) for row in observed]
    hist_b = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * observed[i][j]
            den += w * hist_a[i] * hist_b[j] / n
    if den == 0:
        return None
    return 1.0 - num / den


def mean_absolute_error(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError("mae: the two sequences differ in length")
    if not a:
        return 0.0
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def share_within(a: Sequence[int], b: Sequence[int], tolerance: int) -> float:
    """Share of pairs whose grades differ by at most ``tolerance`` (0 = exact agreement)."""
    if not a:
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) <= tolerance) / len(a)


def round_half_up(x: float) -> int:
    """Python's round() rounds 2.5 to 2; a grade of 2.5 should read as 3."""
    return int(math.floor(x + 0.5))
