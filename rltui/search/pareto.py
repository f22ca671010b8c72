"""The Pareto front of a study with several objectives, and every trial's domination rank.

A trial dominates another when it is at least as good in every objective and better in one.
Rank 1 is the Pareto front (dominated by no trial); rank 2 is the front once rank 1 is left
out; and so on. Equal values do not dominate each other, so ties share a rank.

Two objectives (the usual case) are ranked by sorting on the first and sweeping the second,
O(N log N): 10,000 trials take a few hundredths of a second. More objectives use the fast
non-dominated sort, O(M N^2), fine up to a few thousand trials.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence


def domination_ranks(points: Sequence[Sequence[float]], maximize: Sequence[bool]) -> list[int]:
    """Each point's domination rank (1 = on the Pareto front), in the order given.

    ``maximize`` holds one flag per objective. Points must all have one value per objective
    and no NaN (:func:`rankable` says which do).
    """
    signs = [-1.0 if m else 1.0 for m in maximize]
    # Everything below minimises.
    costs = [tuple(s * v for s, v in zip(signs, p, strict=True)) for p in points]
    if len(signs) == 1:
        ordered = sorted(set(costs))
        place = {c: i + 1 for i, c in enumerate(ordered)}
        return [place[c] for c in costs]
    if len(signs) == 2:
        return _two(costs)
    return _many(costs)


def rankable(values: Sequence[float], count: int) -> bool:
    """Whether a trial's ``values`` can be ranked in a study of ``count`` objectives."""
    return len(values) == count and not any(math.isnan(v) for v in values)


def _two(costs: list[tuple[float, ...]]) -> list[int]:
    # Sorted by (first, second), a point can only be dominated by points before it. Each
    # front keeps its smallest (second, first): strictly increasing from front to front, and
    # a point is dominated by a front exactly when that key is below its own (second, first).
    order = sorted(range(len(costs)), key=lambda i: costs[i])
    keys: list[tuple[float, float]] = []
    ranks = [0] * len(costs)
    for index in order:
        first, second = costs[index][0], costs[index][1]
        key = (second, first)
        front = bisect_left(keys, key)
        if front == len(keys):
            keys.append(key)
        elif key < keys[front]:
            keys[front] = key
        ranks[index] = front + 1
    return ranks


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def _many(costs: list[tuple[float, ...]]) -> list[int]:
    # Deb's fast non-dominated sort.
    count = len(costs)
    beaten_by = [0] * count
    beats: list[list[int]] = [[] for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            if _dominates(costs[i], costs[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif _dominates(costs[j], costs[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    ranks = [0] * count
    front = [i for i in range(count) if beaten_by[i] == 0]
    rank = 1
    while front:
        following = []
        for i in front:
            ranks[i] = rank
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        front = following
        rank += 1
    return ranks
