"""Per-document arrays of the search index (ids, liveness, freshness, facet codes) so filters run in numpy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from countyhub.catalog.facets import FACET_KEYS, FACETS, doc_facets

KIND_ORDER = {"published": 0, "model": 1, "raw_stream": 2}
SINGLE = tuple(f for f in FACETS if f not in FACET_KEYS)  # one value per dataset: counted with bincount
MULTI = tuple(f for f in FACETS if f in FACET_KEYS)


class DocTable:
    """Dense int ids for dataset names (kept on re-register), with arrays that grow by doubling."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self.meta: list[dict[str, Any] | None] = []
        self.alive = np.zeros(1024, dtype=bool)
        self.fresh = np.zeros(1024, dtype=np.float64)
        self.rank = np.zeros(1024, dtype=np.int8)
        self.codes = {f: np.full(1024, -1, dtype=np.int32) for f in SINGLE}
        self.values: dict[str, dict[str, int]] = {f: {} for f in SINGLE}
        self.value_list: dict[str, list[str]] = {f: [] for f in SINGLE}
        self.sets: dict[str, dict[str, set[int]]] = {f: {} for f in FACETS}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._orders: dict[str, np.ndarray] = {}
        self._groups: dict[tuple[str, str, str], np.ndarray] | None = None

    @property
    def size(self) -> int:
        return len(self.names)

    def _grow(self) -> None:
        cap = len(self.alive) * 2
        self.alive = np.resize(self.alive, cap)
        self.alive[len(self.names):] = False
        self.fresh, self.rank = np.resize(self.fresh, cap), np.resize(self.rank, cap)
        for f in SINGLE:
            grown = np.full(cap, -1, dtype=np.int32)
            grown[: len(self.codes[f])] = self.codes[f]
            self.codes[f] = grown

    def id_of(self, name: str) -> int:
        doc = self.ids.get(name)
        if doc is None:
            doc = self.ids[name] = len(self.names)
            self.names.append(name)
            self.meta.append(None)
            if doc >= len(self.alive):
                self._grow()
        return doc

    def put(self, doc: int, meta: dict[str, Any]) -> None:
        self.drop(doc)
        self.meta[doc] = meta
        self.alive[doc] = True
        fresh = meta.get("freshness")
        self.fresh[doc] = fresh.timestamp() if isinstance(fresh, datetime) else 0.0
        self.rank[doc] = KIND_ORDER.get(meta.get("kind", ""), 3)
        for facet, values in doc_facets(meta).items():
            for value in values:
                self.sets[facet].setdefault(value, set()).add(doc)
            if facet in SINGLE and values:
                codes = self.values[facet]
                if values[0] not in codes:
                    codes[values[0]] = len(self.value_list[facet])
                    self.value_list[facet].append(values[0])
                self.codes[facet][doc] = codes[values[0]]
        self.changed()

    def drop(self, doc: int) -> None:
        meta = self.meta[doc]
        if meta is None:
            return
        for facet, values in doc_facets(meta).items():
            for value in values:
                bucket = self.sets[facet].get(value)
                if bucket is not None:
                    bucket.discard(doc)
                    if not bucket:
                        del self.sets[facet][value]
            if facet in SINGLE:
                self.codes[facet][doc] = -1
        self.meta[doc] = None
        self.alive[doc] = False
        self.changed()

    def changed(self) -> None:
        self._masks.clear()
        self._orders.clear()
        self._groups = None

    def groups(self) -> dict[tuple[str, str, str], np.ndarray]:
        """Live documents by (zone, department, sharing type): what decides who may see an entry, so a caller's
        visibility is a few ORed masks instead of one policy call per document. Cached until the next change."""
        if self._groups is None:
            ids: dict[tuple[str, str, str], list[int]] = {}
            for doc in np.flatnonzero(self.alive[: self.size]).tolist():
                meta, name = self.meta[doc], self.names[doc]
                zone = name.split(".", 1)[0] if "." in name else "shared"
                ids.setdefault((zone, meta.get("department", ""), meta.get("sharing_type", "")), []).append(doc)
            self._groups = {}
            for key, docs in ids.items():
                mask = np.zeros(len(self.alive), dtype=bool)
                mask[np.array(docs, dtype=np.int64)] = True
                self._groups[key] = mask
        return self._groups

    def visible(self, may_see: Callable[[str, str, str], bool]) -> np.ndarray:
        """Documents whose (zone, department, sharing type) group `may_see` accepts."""
        out = np.zeros(len(self.alive), dtype=bool)
        for key, mask in self.groups().items():
            if may_see(*key):
                out |= mask
        return out

    def mask(self, facet: str, values: list[str]) -> np.ndarray:
        """Documents having any of the values (OR within one facet); cached until the next change."""
        out = np.zeros(len(self.alive), dtype=bool)
        for value in values:
            key = (facet, value)
            cached = self._masks.get(key)
            if cached is None:
                cached = np.zeros(len(self.alive), dtype=bool)
                ids = self.sets[facet].get(value)
                if ids:
                    cached[np.fromiter(ids, dtype=np.int64, count=len(ids))] = True
                self._masks[key] = cached
            out |= cached
        return out

    def allowed(self, facets: dict[str, Any]) -> np.ndarray | None:
        mask = None
        for facet, wanted in facets.items():
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            m = self.mask(facet, values)
            mask = m if mask is None else mask & m
        return mask

    def order(self, sort: str) -> np.ndarray:
        """All live ids in browse order: freshest first, or published before models before raw, then by name."""
        cached = self._orders.get(sort)
        if cached is None:
            live = np.flatnonzero(self.alive)
            by_name = sorted(live.tolist(), key=self.names.__getitem__)
            arr = np.array(by_name, dtype=np.int64)
            key = -self.fresh[arr] if sort == "freshness" else self.rank[arr]
            cached = self._orders[sort] = arr[np.argsort(key, kind="stable")]
        return cached

    def counts(self, facet: str, pool: np.ndarray) -> Counter:
        """Values of `facet` over the documents in the boolean `pool`."""
        ids = np.flatnonzero(pool[: self.size])
        if facet in SINGLE:
            codes = self.codes[facet][ids]
            hist = np.bincount(codes[codes >= 0], minlength=len(self.value_list[facet]))
            return Counter({self.value_list[facet][i]: int(hist[i]) for i in np.flatnonzero(hist)})
        counts: Counter[str] = Counter()
        key = FACET_KEYS[facet]
        for doc in ids.tolist():
            counts.update(v for v in self.meta[doc].get(key, []) if v)
        return counts
