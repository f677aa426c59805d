"""Per-document arrays of the search index (liveness, freshness, kind, facet codes) so filters run in numpy."""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from countyhub.catalog.facets import FACET_KEYS, FACETS, facet_values
from countyhub.catalog.strings import StringTable, loaded

KIND_ORDER = {"published": 0, "model": 1, "raw_stream": 2}
SINGLE = tuple(f for f in FACETS if f not in FACET_KEYS) + ("schema",)  # one value a dataset: bincount
MULTI = tuple(f for f in FACETS if f in FACET_KEYS)


def schema_of(name: str) -> str:
    """The lake schema of a dataset name (raw_gaj, audit, shared); what visibility decides on."""
    return name.split(".", 1)[0] if "." in name else "shared"


class DocTable:
    """Dense int ids: documents of the snapshot first, then documents indexed since. Re-indexing a dataset gives it
    a new id and kills the old one, so nothing in the read-only snapshot ever has to change."""

    def __init__(self, folder: Path | None = None) -> None:
        self.base = 0
        self._names = self._sorted = self._short = self._meta = None
        self._name_order = self._short_order = np.zeros(0, dtype=np.int32)
        self.value_list: dict[str, list[str]] = {f: [] for f in SINGLE + MULTI}
        pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if folder is not None:
            info = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
            self.base = info["documents"]
            self.value_list |= info["values"]
            self._names, self._meta = StringTable.open(folder, "names"), StringTable.open(folder, "meta")
            self._sorted, self._short = StringTable.open(folder, "names_sorted"), StringTable.open(folder, "short")
            self._name_order = loaded(folder / "name_order.npy")
            self._short_order = loaded(folder / "short_order.npy")
            arrays = np.load(folder / "docs.npz")
            self.alive, self.fresh, self.rank = arrays["alive"], arrays["fresh"], arrays["rank"]
            self.codes = {f: arrays[f"code_{f}"] for f in SINGLE}
            pairs = {f: (arrays[f"pair_doc_{f}"], arrays[f"pair_val_{f}"]) for f in MULTI}
        else:
            self.alive = np.zeros(0, dtype=bool)
            self.fresh, self.rank = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int8)
            self.codes = {f: np.zeros(0, dtype=np.int32) for f in SINGLE}
        self._grow(max(1024, self.base * 5 // 4))
        self.values = {f: {v: i for i, v in enumerate(vals)} for f, vals in self.value_list.items()}
        self.pair_base = {f: pairs.get(f, (np.zeros(0, np.int32), np.zeros(0, np.int32))) for f in MULTI}
        self.pair_added = {f: (array("i"), array("i")) for f in MULTI}
        self.ids: dict[str, int] = {}  # documents indexed since the snapshot (the newest id of each name)
        self.added_names: list[str] = []
        self.added_meta: dict[int, dict[str, Any]] = {}
        self.short_added: dict[str, set[int]] = {}
        self.status: dict[int, dict[str, Any]] = {}  # live fields changed since the snapshot
        self.dead = 0  # dead ids still in postings: document frequencies must then count only live ones
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._orders: dict[str, np.ndarray] = {}
        self._groups: dict[tuple[str, str, str], np.ndarray] | None = None
        self._prior: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.base + len(self.added_names)

    def _grow(self, cap: int) -> None:
        def grown(a: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full(cap, fill, dtype=a.dtype)
            out[: len(a)] = a
            return out
        self.alive, self.fresh, self.rank = grown(self.alive, False), grown(self.fresh, 0.0), grown(self.rank, 3)
        self.codes = {f: grown(c, -1) for f, c in self.codes.items()}

    def lookup(self, name: str) -> int | None:
        """The live id of a dataset name, or None."""
        doc = self.ids.get(name)
        if doc is None and self._sorted is not None:
            i = self._sorted.find(name)
            doc = int(self._name_order[i]) if i >= 0 else None
        return doc if doc is not None and self.alive[doc] else None

    def short(self, short: str) -> list[int]:
        """Live ids whose name ends in `.short` (or is `short`)."""
        docs = list(self.short_added.get(short, ()))
        if self._short is not None:
            start, end = self._short.equal_range(short)
            docs += self._short_order[start:end].tolist()
        return [d for d in docs if self.alive[d]]

    def name(self, doc: int) -> str:
        return self._names[doc] if doc < self.base else self.added_names[doc - self.base]

    def meta(self, doc: int) -> dict[str, Any]:
        if doc >= self.base:
            return self.added_meta[doc]
        meta = json.loads(self._meta[doc])
        if meta.get("freshness"):
            meta["freshness"] = datetime.fromisoformat(meta["freshness"])
        return meta | self.status.get(doc, {})

    def add(self, name: str, meta: dict[str, Any]) -> int:
        """A new id for the dataset (its previous one, if any, dies) carrying `meta`."""
        old = self.lookup(name)
        if old is not None:
            self.drop(old)
        doc = self.size
        if doc >= len(self.alive):
            self._grow(len(self.alive) * 2)
        self.ids[name] = doc
        self.added_names.append(name)
        self.added_meta[doc] = meta
        self.short_added.setdefault(name.lower().rsplit(".", 1)[-1], set()).add(doc)
        self.alive[doc] = True
        self._set_live(doc, meta)
        self.rank[doc] = KIND_ORDER.get(meta.get("kind", ""), 3)
        for facet in SINGLE:
            values = [schema_of(name)] if facet == "schema" else facet_values(meta, facet)
            if values:
                self.codes[facet][doc] = self._code(facet, values[0])
        for facet in MULTI:
            docs, vals = self.pair_added[facet]
            for value in dict.fromkeys(facet_values(meta, facet)):
                docs.append(doc)
                vals.append(self._code(facet, value))
        self.changed()
        return doc

    def _code(self, facet: str, value: str) -> int:
        codes = self.values[facet]
        if value not in codes:
            codes[value] = len(self.value_list[facet])
            self.value_list[facet].append(value)
        return codes[value]

    def _set_live(self, doc: int, status: dict[str, Any]) -> None:
        fresh = status.get("freshness")
        self.fresh[doc] = fresh.timestamp() if isinstance(fresh, datetime) else 0.0
        if "gate_status" in status:
            self.codes["gate_status"][doc] = self._code("gate_status", status["gate_status"])

    def set_status(self, doc: int, status: dict[str, Any]) -> None:
        """Change the live fields (gate_status, freshness) of a document in place."""
        if doc >= self.base:
            self.added_meta[doc] |= status
        else:
            self.status[doc] = self.status.get(doc, {}) | status
        self._set_live(doc, self.meta(doc))
        self.changed()

    def drop(self, doc: int) -> None:
        if self.alive[doc]:
            self.alive[doc] = False
            self.dead += 1
            self.added_meta.pop(doc, None)
            self.changed()

    def prior(self, by_rank: np.ndarray) -> np.ndarray:
        """by_rank[rank] for every document, computed once per change instead of once per query."""
        if self._prior is None or len(self._prior) != len(self.rank):
            self._prior = by_rank[self.rank]
        return self._prior

    def changed(self) -> None:
        self._prior = None
        self._masks.clear()
        self._orders.clear()
        self._groups = None

    def groups(self) -> dict[tuple[str, str, str], np.ndarray]:
        """Live documents by (schema, department, sharing type): what decides who may see an entry, so a caller's
        visibility is a few ORed masks instead of one policy call per document. Cached until the next change."""
        if self._groups is None:
            n = self.size
            keys = np.stack([self.codes[f][:n] for f in ("schema", "department", "sharing_type")], axis=1)
            live = np.flatnonzero(self.alive[:n])
            combos, which = np.unique(keys[live], axis=0, return_inverse=True)
            self._groups = {}
            for k, combo in enumerate(combos.tolist()):
                mask = np.zeros(len(self.alive), dtype=bool)
                mask[live[which.ravel() == k]] = True
                key = tuple(self.value_list[f][c] if c >= 0 else "" for f, c in
                            zip(("schema", "department", "sharing_type"), combo, strict=True))
                self._groups[key] = mask
        return self._groups

    def visible(self, may_see: Callable[[str, str, str], bool]) -> np.ndarray:
        """Documents whose (schema, department, sharing type) group `may_see` accepts."""
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
                code = self.values[facet].get(value)
                if code is not None and facet in SINGLE:
                    cached[: self.size] = self.codes[facet][: self.size] == code
                elif code is not None:
                    docs, vals = self._pairs(facet)
                    cached[docs[vals == code]] = True
                self._masks[key] = cached
            out |= cached
        return out

    def _pairs(self, facet: str) -> tuple[np.ndarray, np.ndarray]:
        (base_docs, base_vals), (docs, vals) = self.pair_base[facet], self.pair_added[facet]
        return (np.concatenate([base_docs, np.frombuffer(docs, dtype=np.int32)]),
                np.concatenate([base_vals, np.frombuffer(vals, dtype=np.int32)]))

    def allowed(self, facets: dict[str, Any]) -> np.ndarray | None:
        mask = None
        for facet, wanted in facets.items():
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            m = self.mask(facet, values)
            mask = m if mask is None else mask & m
        return mask

    def by_name(self) -> np.ndarray:
        """Live ids sorted by name: the snapshot's order with the documents indexed since merged in."""
        base = np.asarray(self._name_order, dtype=np.int64)
        base = base[self.alive[base]]
        added = sorted((n, d) for n, d in self.ids.items() if self.alive[d])
        if not added:
            return base
        where = [self._sorted._left(n) if self._sorted is not None else 0 for n, _ in added]
        # _left counts every snapshot name below, dead ones included: shift by the dead ones before each place.
        if self._sorted is not None and len(base) < len(self._name_order):
            dead_before = np.cumsum(~self.alive[np.asarray(self._name_order, dtype=np.int64)])
            where = [w - (int(dead_before[w - 1]) if w else 0) for w in where]
        return np.insert(base, np.array(where, dtype=np.int64), np.array([d for _, d in added], dtype=np.int64))

    def order(self, sort: str) -> np.ndarray:
        """All live ids in browse order: freshest first, or published before models before raw, then by name."""
        cached = self._orders.get(sort)
        if cached is None:
            arr = self.by_name()
            key = -self.fresh[arr] if sort == "freshness" else self.rank[arr]
            cached = self._orders[sort] = arr[np.argsort(key, kind="stable")]
        return cached

    def counts(self, facet: str, pool: np.ndarray) -> Counter:
        """Values of `facet` over the documents in the boolean `pool`."""
        if facet in SINGLE:
            codes = self.codes[facet][: self.size][pool[: self.size]]
        else:
            docs, vals = self._pairs(facet)
            codes = vals[pool[docs]]
        hist = np.bincount(codes[codes >= 0], minlength=len(self.value_list[facet]))
        return Counter({self.value_list[facet][i]: int(hist[i]) for i in np.flatnonzero(hist)})
