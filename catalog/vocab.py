"""The index vocabulary for fallbacks and suggestions: Latin prefixes, typo-tolerant words, Chinese substrings."""

from __future__ import annotations

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from countyhub.catalog.postings import Postings
from countyhub.catalog.strings import StringTable
from countyhub.catalog.text import HAN

FALLBACK_WEIGHT = 0.5  # prefix/substring matches count, but less than whole-word matches
TYPO_WEIGHT = 0.4
MAX_EXPANSIONS = 50


def _latin(term: str) -> bool:
    return term.isascii() and term.isalpha()


class Vocabulary:
    """Every indexed term: the snapshot's sorted term table (searched in its file) plus the terms added since."""

    def __init__(self, postings: Postings) -> None:
        self._postings = postings
        self._added: list[str] = []
        self._added_table: StringTable | None = None  # the added terms sorted, rebuilt after new ones
        self._base_latin: list[str] | None = None
        self._latin: list[str] | None = None

    def add(self, term: str) -> None:
        self._added.append(term)
        self._latin = self._added_table = None

    def _tables(self) -> tuple[StringTable, StringTable]:
        if self._added_table is None:
            self._added_table = StringTable.build(sorted(self._added))
        return self._postings.terms, self._added_table

    def fallbacks(self, term: str) -> list[tuple[str, float]]:
        """Indexed terms standing in for a query term that is not itself indexed, with their weights."""
        if HAN.search(term):
            # One character (公 of 公租房) is inside thousands of words: standing in for them all finds noise.
            return [] if len(term) < 2 else [(t, FALLBACK_WEIGHT) for t in self.containing(term)[:MAX_EXPANSIONS]]
        if len(term) < 2:
            return []
        out = sorted(t for table in self._tables() for t in table.prefixed(term, MAX_EXPANSIONS))[:MAX_EXPANSIONS]
        if out or len(term) < 4 or term.isdigit():
            return [(t, FALLBACK_WEIGHT) for t in out]
        return [(t, TYPO_WEIGHT / (1 + dist)) for t, dist in self.near(term, 1 if len(term) < 8 else 2)]

    def containing(self, part: str) -> list[str]:
        """Indexed Chinese terms containing `part`, in sorted order."""
        found = [table[i] for table in self._tables() for i in table.containing(part)]
        return sorted(t for t in found if HAN.search(t))

    def near(self, term: str, limit: int) -> list[tuple[str, int]]:
        """Latin words within `limit` edits: 'housheld' still finds households."""
        found = process.extract(term, self.latin(), scorer=Levenshtein.distance, score_cutoff=limit,
                                limit=MAX_EXPANSIONS)
        return [(t, int(dist)) for t, dist, _ in found]

    def similar_han(self, term: str, limit: int = 3) -> list[str]:
        """Indexed Chinese words most like `term` (sharing most characters), for 'did you mean'."""
        chars = set(term)
        pool = sorted({t for c in chars for t in self.containing(c) if len(t) >= 2})
        found = process.extract(term, pool, scorer=fuzz.ratio, score_cutoff=50, limit=None)
        # Equally near: the word more datasets use first (户籍 before 户号 for 户集).
        found.sort(key=lambda item: (-item[1], -len(self._postings.get(item[0])[0])))
        return [t for t, _, _ in found[:limit]]

    def latin(self) -> list[str]:
        if self._latin is None:
            if self._base_latin is None:
                self._base_latin = [t for t in self._postings.terms if _latin(t)]
            added = [t for t in self._added if _latin(t)]
            self._latin = sorted(self._base_latin + added) if added else self._base_latin
        return self._latin
