"""The index vocabulary for fallbacks: Latin prefixes, typo-tolerant Latin words, Chinese substrings."""

from __future__ import annotations

import bisect

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from countyhub.catalog.text import HAN

FALLBACK_WEIGHT = 0.5  # prefix/substring matches count, but less than whole-word matches
TYPO_WEIGHT = 0.4
MAX_EXPANSIONS = 50
_MERGE_AT = 2000


class Vocabulary:
    """Sorted terms plus a small unsorted tail, merged lazily: inserting into a 300k sorted list per new term
    would cost more than the whole index build. Removed terms stay until merge and are skipped via postings."""

    def __init__(self) -> None:
        self._sorted: list[str] = []
        self._pending: set[str] = set()
        self._latin: list[str] | None = None
        self._han: list[str] | None = None

    def add(self, term: str) -> None:
        self._pending.add(term)
        self._latin = self._han = None

    def compact(self, live: dict) -> None:
        self._merge(live)

    def _merge(self, live: dict) -> None:
        if self._pending:
            self._sorted = sorted({t for t in self._sorted if t in live} | {t for t in self._pending if t in live})
            self._pending.clear()

    def fallbacks(self, term: str, live: dict) -> list[tuple[str, float]]:
        """Indexed terms standing in for a query term that is not itself indexed, with their weights."""
        if len(self._pending) > _MERGE_AT or (self._pending and not self._sorted):
            self._merge(live)
        if HAN.search(term):
            if self._han is None:
                self._han = [t for t in self._all() if HAN.search(t)]
            return [(t, FALLBACK_WEIGHT) for t in self._han if term in t and t in live][:MAX_EXPANSIONS]
        if len(term) < 2:
            return []
        out = [(t, FALLBACK_WEIGHT) for t in self._prefixed(term) if t in live][:MAX_EXPANSIONS]
        if out or len(term) < 4 or term.isdigit():
            return out
        return self._typos(term, live)

    def _all(self) -> list[str]:
        return self._sorted + sorted(self._pending)

    def _prefixed(self, term: str) -> list[str]:
        out = [t for t in self._pending if t.startswith(term)]
        i = bisect.bisect_left(self._sorted, term)
        while i < len(self._sorted) and self._sorted[i].startswith(term) and len(out) < MAX_EXPANSIONS * 2:
            out.append(self._sorted[i])
            i += 1
        return out

    def _typos(self, term: str, live: dict) -> list[tuple[str, float]]:
        """Latin words within one edit (two for words of 8+ letters): 'housheld' still finds households."""
        if self._latin is None:
            self._latin = [t for t in self._all() if t.isascii() and t.isalpha()]
        limit = 1 if len(term) < 8 else 2
        found = process.extract(term, self._latin, scorer=Levenshtein.distance, score_cutoff=limit,
                                limit=MAX_EXPANSIONS)
        return [(t, TYPO_WEIGHT / (1 + dist)) for t, dist, _ in found if t in live]
