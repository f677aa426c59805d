"""Term postings of the search index: a read-only base from the snapshot (read by position) plus those added since."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from countyhub.catalog.filed import FiledArray
from countyhub.catalog.strings import StringTable, loaded

DENSE_MIN = 4096  # postings below which scattering is cheap anyway
DENSE_BYTES = 8 << 20  # at 100k documents: the 16 most used frequent terms
CACHE_MIN, CACHE_BYTES = 1024, 8 << 20  # postings read from the file and kept for the next query


class Postings:
    """term -> (doc ids, impacts). The base is a sorted term table over three flat arrays, read by position; terms of
    documents indexed since the snapshot go to compact C arrays (8 bytes a posting) and are searched alongside.
    A replaced or removed document is not unlinked from its postings: it is dead in the document table, which the
    query masks out, and the next snapshot leaves it behind."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            self.terms = StringTable.build([])
            self.start = np.zeros(1, dtype=np.int64)
            self.ids = np.zeros(0, dtype=np.int32)
            self.impacts = np.zeros(0, dtype=np.float32)
        else:
            self.terms = StringTable.open(folder, "terms")
            self.start = loaded(folder / "post_start.npy")
            self.ids = FiledArray(folder / "post_ids.npy")  # read a term's slice at a time
            self.impacts = FiledArray(folder / "post_impacts.npy")
        self.added: dict[str, tuple[array, array]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # terms with postings added since the snapshot
        self._recent: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # large postings read from the file, by use
        self._cached = 0  # bytes in _recent
        self._where: dict[str, int] = {}  # term -> its row in the base table (-1: not there); queries repeat terms
        self._dense: dict[str, np.ndarray] = {}  # frequent terms' impacts laid out by document, most recent last

    def _find(self, term: str) -> int:
        row = self._where.get(term)
        if row is None:
            if len(self._where) > 100_000:
                self._where.clear()
            row = self._where[term] = self.terms.find(term)
        return row

    def __contains__(self, term: str) -> bool:
        return term in self.added or self._find(term) >= 0

    def __iter__(self) -> Iterator[str]:
        """Every indexed term: the snapshot's, then those added since."""
        yield from self.terms
        yield from (t for t in self.added if self.terms.find(t) < 0)

    def dense(self, term: str, cap: int) -> np.ndarray | None:
        """The impacts of a term found in at least an eighth of the catalog as one array over all documents (0
        where absent), kept for the most recently used such terms up to DENSE_BYTES: adding a contiguous array is
        several times faster than scattering a hundred thousand postings, and those terms recur in most queries."""
        cached = self._dense.get(term)
        if cached is not None and len(cached) == cap:
            self._dense[term] = self._dense.pop(term)  # most recently used last
            return cached
        ids, impacts = self.get(term)
        if len(ids) < max(DENSE_MIN, cap // 8):
            return None
        cached = np.zeros(cap, dtype=np.float32)
        cached[ids] = impacts
        self._dense[term] = cached
        while len(self._dense) * cap * 4 > DENSE_BYTES:
            self._dense.pop(next(iter(self._dense)))
        return cached

    def add(self, term: str, doc: int, impact: float) -> bool:
        """Append one posting; True when the term was not indexed before (the vocabulary learns it)."""
        posting = self.added.get(term)
        new = posting is None
        if new:
            posting = self.added[term] = (array("i"), array("f"))
            new = self._find(term) < 0
        posting[0].append(doc)
        posting[1].append(impact)
        self._arrays.pop(term, None)
        self._dense.pop(term, None)
        recent = self._recent.pop(term, None)
        if recent is not None:
            self._cached -= 8 * len(recent[0])
        return new

    def get(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Doc ids and impacts of a term (empty arrays when it is not indexed); base slices are views, not copies."""
        cached = self._arrays.get(term)
        if cached is not None:
            return cached
        cached = self._recent.get(term)
        if cached is not None:
            self._recent[term] = self._recent.pop(term)  # most recently used last
            return cached
        i = self._find(term)
        base = (self.ids[self.start[i]: self.start[i + 1]], self.impacts[self.start[i]: self.start[i + 1]]) \
            if i >= 0 else (self.ids[:0], self.impacts[:0])
        added = self.added.get(term)
        if added is None:
            if len(base[0]) >= CACHE_MIN:  # read from the file: keep the recently used large ones
                self._recent[term] = base
                self._cached += 8 * len(base[0])
                while self._cached > CACHE_BYTES:
                    self._cached -= 8 * len(self._recent.pop(next(iter(self._recent)))[0])
            return base
        # Copies, not views: a numpy view would pin the array.array and forbid later appends.
        ids = np.concatenate([base[0], np.array(added[0], dtype=np.int32)])
        impacts = np.concatenate([base[1], np.array(added[1], dtype=np.float32)])
        self._arrays[term] = (ids, impacts)
        return ids, impacts

    def term_ids(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Every posting flattened for a snapshot: (sorted terms, term index, doc id, impact) per posting."""
        extra = sorted(t for t in self.added if self.terms.find(t) < 0)
        base_terms = list(self.terms)
        terms = sorted(base_terms + extra) if extra else base_terms
        index = {t: i for i, t in enumerate(terms)}
        parts_term, parts_doc, parts_imp = [], [], []
        if len(base_terms):
            base_map = np.array([index[t] for t in base_terms], dtype=np.int32)
            parts_term.append(np.repeat(base_map, np.diff(np.asarray(self.start))))
            parts_doc.append(self.ids[0:len(self.ids)])
            parts_imp.append(self.impacts[0:len(self.impacts)])
        for term, (ids, impacts) in self.added.items():
            parts_term.append(np.full(len(ids), index[term], dtype=np.int32))
            parts_doc.append(np.frombuffer(ids, dtype=np.int32))
            parts_imp.append(np.frombuffer(impacts, dtype=np.float32))
        if not parts_term:
            return terms, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
        return terms, np.concatenate(parts_term), np.concatenate(parts_doc), np.concatenate(parts_imp)


def save_postings(folder: Path, terms: list[str], term_of: np.ndarray, docs: np.ndarray, impacts: np.ndarray) -> None:
    """Write postings grouped by term (stable within a term), ready for `Postings(folder)`."""
    order = np.argsort(term_of, kind="stable")
    counts = np.bincount(term_of, minlength=len(terms)) if len(term_of) else np.zeros(len(terms), dtype=np.int64)
    keep = counts > 0  # a term whose documents are all gone is not written
    start = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    start[1:] = np.cumsum(counts[keep])
    table = StringTable.build([t for t, k in zip(terms, keep.tolist(), strict=True) if k])
    table.save(folder, "terms")
    table.save_pairs(folder, "terms")
    np.save(folder / "post_start.npy", start)
    np.save(folder / "post_ids.npy", docs[order].astype(np.int32))
    np.save(folder / "post_impacts.npy", impacts[order].astype(np.float32))
