"""random.choices(names, weights)[0] for hot loops: the same single draw, without choices' per-call setup."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A population with its cumulative weights worked out once; pick() draws exactly as random.choices does
    (one rng.random() scaled by the float total, bisected), so the generated county stays identical."""

    def __init__(self, population: Sequence[T], weights: Iterable[float]) -> None:
        self.population = tuple(population)
        self.cum_weights = list(accumulate(weights))
        self.total = self.cum_weights[-1] + 0.0
        self.hi = len(self.population) - 1

    def pick(self, rng: random.Random) -> T:
        return self.population[bisect(self.cum_weights, rng.random() * self.total, 0, self.hi)]


@cache
def _table(table: tuple[tuple, ...]) -> Weighted:
    return Weighted([row[0] for row in table], [row[1] for row in table])


def pick(rng: random.Random, table: tuple[tuple, ...]) -> str:
    """A name from a (name, weight, ...) table, drawn by weight."""
    return _table(table).pick(rng)


# rng.randint and rng.choice go through randrange's argument checks on every call; the generator makes tens of
# millions of draws. These take the very same draw (CPython's Random._randbelow, which both end in), so a seed
# still gives the same county.
def randint(rng: random.Random, low: int, high: int) -> int:
    """rng.randint(low, high)."""
    span = high - low + 1
    return low + rng._randbelow(span) if span > 0 else rng.randint(low, high)  # type: ignore[attr-defined]


def choice(rng: random.Random, seq: Sequence[T]) -> T:
    """rng.choice(seq)."""
    return seq[rng._randbelow(len(seq))] if seq else rng.choice(seq)  # type: ignore[attr-defined]
