"""Dataset search: BM25F impacts per posting, synonyms, exact-name boosts, facets, typo and pinyin fallbacks."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from countyhub.catalog.doctable import DocTable
from countyhub.catalog.facets import FACETS, SORTS, check_facets, matches_facets
from countyhub.catalog.postings import Postings
from countyhub.catalog.query_terms import _NAME_LIKE, Plan, Slot, plan
from countyhub.catalog.suggest import suggestions
from countyhub.catalog.synonyms import Synonyms
from countyhub.catalog.text import HAN, add_words, name_terms, stem, tokenize
from countyhub.catalog.vocab import Vocabulary

# Field weights: a word in the title or keywords says more about a dataset than one in a column list.
FIELD_WEIGHTS = {"name": 3.0, "title": 3.0, "keywords": 2.5, "department": 1.5, "description": 1.0, "columns": 1.0}
# Reference field lengths instead of live averages: impacts are then fixed at index time, so a query only sums
# precomputed numbers (what keeps p95 low at 100k entries) and a new entry never shifts the others' scores.
# Fields with pinyin count those terms too (about three per Chinese word), hence the larger lengths.
REF_LENGTH = {"name": 6, "title": 36, "keywords": 30, "department": 20, "description": 30, "columns": 80}
K1, B = 1.2, 0.75
TERMS_VERSION = 1  # bump when tokenizing or weighting changes: stored terms of older versions are recomputed
EXACT_NAME_BOOST, SHORT_NAME_BOOST, NAME_SUBSTRING_BOOST = 1000.0, 500.0, 5.0
# For about equal relevance the published dataset, the one an analyst should use, comes first (DocTable.rank:
# 0 published, 1 model, 2 raw_stream). Kept small: at 1.15 it lifted partly matching shared datasets over the
# labelled raw targets of initials queries (14 of 20 found at 100k entries, 16 at 1.05, 17 without it).
KIND_PRIOR = np.array([1.05, 1.0, 1.0, 1.0], dtype=np.float32)
HIDDEN_ZONES = ("audit",)  # left out unless a zone or kind facet asks, or the query is the dataset's full name
META_KEYS = ("name", "title_zh", "title_en", "description", "department_name", "sharing_type", "kind",
             "classification", "resource_class", "resource_code", "themes", "keywords", "update_cycle")


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, Counter] = field(default_factory=dict)
    # With no hit: queries that would find something ("did you mean"), and where hits are outside the filters.
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    elsewhere: dict[str, Counter] = field(default_factory=dict)


def zone_of(name: str) -> str:
    """The zone facet of a dataset: raw, staging, intermediate, audit or shared."""
    schema = name.split(".", 1)[0] if "." in name else "shared"
    return "raw" if schema.startswith("raw_") else schema


def _fields(entry: dict[str, Any]) -> dict[str, Counter]:
    cols = entry.get("columns", [])
    columns = " ".join(f"{c.get('name', '')} {c.get('description', '')}" for c in cols)
    return {
        "name": Counter(name_terms(entry["name"])),
        "title": Counter(tokenize(f"{entry.get('title_zh', '')} {entry.get('title_en', '')}")),
        "keywords": Counter(tokenize(" ".join(entry.get("keywords", []) + entry.get("themes", [])))),
        "department": Counter(tokenize(f"{entry.get('department_name', '')} {entry.get('department_code', '')}")),
        # No pinyin for the abstract: people type pinyin for names and words, not for sentences, and the initials
        # of a long text match two-letter queries by accident (城镇 -> cz).
        "description": Counter(tokenize(entry.get("description", ""), pinyin=False)),
        "columns": Counter(tokenize(columns.replace("_", " "))) + Counter(c.get("name", "").lower() for c in cols),
    }


def entry_terms(entry: dict[str, Any]) -> dict[str, Any]:
    """What the catalog stores with an entry at registration: its terms' impacts, tagged with the term version."""
    add_words([k for k in entry.get("keywords", []) + entry.get("themes", []) if isinstance(k, str)])
    return {"v": TERMS_VERSION, "impacts": _impacts(_fields(entry))}


def _impacts(fields: dict[str, Counter]) -> dict[str, float]:
    """BM25F saturation per term, length-normalised against the reference lengths; idf is applied at query time."""
    wtf: Counter[str] = Counter()
    for fname, counter in fields.items():
        norm = 1 - B + B * sum(counter.values()) / REF_LENGTH[fname]
        for term, tf in counter.items():
            wtf[term] += FIELD_WEIGHTS[fname] * tf / norm
    return {term: w * (K1 + 1) / (w + K1) for term, w in wtf.items()}


class SearchIndex:
    """Postings with precomputed impacts over dense document ids; scores accumulate in numpy arrays, so a query
    costs C loops, not one Python step per match. Opened from a snapshot folder, it reads postings from its files as queries need them."""

    def __init__(self, folder: Path | None = None, synonyms: Synonyms | None = None) -> None:
        self._lock = threading.RLock()
        self._docs = DocTable(folder)
        self._postings = Postings(folder)
        self._vocab = Vocabulary(self._postings)
        self.synonyms = synonyms
        self._df: dict[str, tuple[int, int]] = {}  # term -> (dead count it was computed at, live documents)
        self._best = np.zeros(0, dtype=np.float32)  # zeros between queries (see _slot); guarded by the lock
        # Synonym phrases recur across queries (医疗保险 for every 医保 query): their documents, per generation.
        self._phrases: dict[tuple[str, ...], tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]]] = {}

    def __len__(self) -> int:
        return int(self._docs.alive.sum())

    def __contains__(self, name: str) -> bool:
        return self._docs.lookup(name) is not None

    def add(self, entry: dict[str, Any], status: dict[str, Any] | None = None,
            terms: dict[str, Any] | None = None) -> None:
        """Index (or re-index) one dataset given as a dict with the DatasetEntry fields; `terms` (entry_terms of
        it, as stored at registration) saves tokenizing it again when its version is current."""
        add_words([k for k in entry.get("keywords", []) + entry.get("themes", []) if isinstance(k, str)])
        if terms is not None and terms.get("v") == TERMS_VERSION:
            impacts = terms["impacts"]
        else:
            impacts = _impacts(_fields(entry))
        name = entry["name"]
        meta = {k: entry.get(k, "") for k in META_KEYS}
        meta |= {"department": entry.get("department_code", ""), "themes": list(entry.get("themes", [])),
                 "keywords": list(entry.get("keywords", [])), "zone": zone_of(name), "gate_status": "not_gated",
                 "freshness": None}
        with self._lock:
            old = self._docs.lookup(name)
            if old is not None:
                previous = self._docs.meta(old)
                meta |= {k: previous[k] for k in ("gate_status", "freshness")}
            meta |= status or {}
            doc = self._docs.add(name, meta)
            for term, impact in impacts.items():
                if self._postings.add(term, doc, impact):
                    self._vocab.add(term)

    def set_status(self, name: str, **status: Any) -> None:
        """Update the live fields (gate_status, freshness) of an indexed dataset without re-tokenizing it."""
        with self._lock:
            doc = self._docs.lookup(name)
            if doc is not None:
                self._docs.set_status(doc, status)

    def remove(self, name: str) -> None:
        with self._lock:
            doc = self._docs.lookup(name)
            if doc is not None:
                self._docs.drop(doc)

    def _df_of(self, term: str, ids: np.ndarray) -> int:
        dead = self._docs.dead
        if not dead:
            return len(ids)
        cached = self._df.get(term)
        if cached is None or cached[0] != dead:
            cached = self._df[term] = (dead, int(np.count_nonzero(self._docs.alive[ids])))
        return cached[1]

    def _variants(self, term: str) -> list[tuple[str, float]]:
        if term in self._postings:
            return [(term, 1.0)]
        return self._vocab.fallbacks(term)

    def _term_scores(self, term: str, cap: int, n_docs: int) -> tuple[np.ndarray | None, list[tuple]]:
        """(best-of-variants array, None) for a fallback term, or (None, [(ids, factor * impacts)]) for an indexed
        one: an indexed term adds straight into the totals without a dense temporary."""
        variants = self._variants(term)
        if len(variants) == 1:
            dense = self._postings.dense(variants[0][0], cap)
            if dense is not None:  # in a large share of the catalog (年, 镇, 2019): contiguous adds, no scatter
                ids = self._postings.get(variants[0][0])[0]
                df = self._df_of(variants[0][0], ids)
                return variants[0][1] * math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) * dense, []
        parts = []
        for variant, weight in variants:
            ids, impacts = self._postings.get(variant)
            df = self._df_of(variant, ids)
            factor = weight * math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            parts.append((ids, factor * impacts))
        if len(parts) <= 1:
            return None, parts
        best = np.zeros(cap, dtype=np.float32)
        for ids, values in parts:
            best[ids] = np.maximum(best[ids], values)
        return best, []

    def _slot(self, slot: Slot, scores: np.ndarray, matched: np.ndarray, n_docs: int) -> None:
        cap = len(scores)
        if len(slot.alternatives) == 1 and len(slot.alternatives[0][0]) == 1:
            best, parts = self._term_scores(slot.alternatives[0][0][0], cap, n_docs)
            if best is None:
                for ids, values in parts:
                    scores[ids] += values
                    matched[ids] += 1
            else:
                scores += best
                matched += best > 0
            return
        (typed, _), synonyms = slot.alternatives[0], slot.alternatives[1:]
        parts = []  # (ids, scores) of each alternative; the best alternative per document counts
        if len(typed) == 1 and typed[0] in self._postings:
            parts.append(self._whole(typed, n_docs))  # one indexed word: sparse like the synonyms
        else:  # the words as typed: fallbacks and the same coordination as across the query
            total = np.zeros(cap, dtype=np.float32)
            hits = np.zeros(cap, dtype=np.float32)
            for term in typed:
                self._slot(Slot.word(term), total, hits, n_docs)
            np.minimum(hits, len(typed), out=hits)
            total *= (hits / len(typed)) ** 2
            ids = np.flatnonzero(total)
            parts.append((ids, total[ids]))
        for terms, weight in synonyms:
            ids, values = self._whole(terms, n_docs)
            if len(ids):
                parts.append((ids, weight * values))
        # One reusable buffer for the per-document maximum: the work is the postings read, not the catalog size.
        best = self._buffer(cap)
        for ids, values in parts:
            best[ids] = np.maximum(best[ids], values)
        touched = np.concatenate([ids for ids, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
        # Repeated ids are harmless: a[ids] += b[ids] writes each document once.
        scores[touched] += best[touched]
        matched[touched] += 1
        best[touched] = 0

    def _buffer(self, cap: int) -> np.ndarray:
        if len(self._best) != cap:
            self._best = np.zeros(cap, dtype=np.float32)
        return self._best

    def _whole(self, terms: tuple[str, ...], n_docs: int) -> tuple[np.ndarray, np.ndarray]:
        """Documents having every term of a synonym (exactly: 最低 and 生活 and 保障, not 生活 alone, and no
        substring or typo stand-ins), with their summed scores. Postings are in ascending document order, so the
        rarest term's documents are looked up in the others by bisection: it costs that term, not the catalog."""
        generation = (self._docs.size, self._docs.dead)  # any change to the documents changes this
        cached = self._phrases.get(terms)
        if cached is not None and cached[0] == generation:
            return cached[1]
        found = self._whole_uncached(terms, n_docs)
        if len(self._phrases) >= 1024:
            self._phrases.pop(next(iter(self._phrases)))
        self._phrases[terms] = (generation, found)
        return found

    def _whole_uncached(self, terms: tuple[str, ...], n_docs: int) -> tuple[np.ndarray, np.ndarray]:
        parts = []
        for term in terms:
            if term not in self._postings:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ids, impacts = self._postings.get(term)
            df = self._df_of(term, ids)
            parts.append((ids, math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) * impacts))
        parts.sort(key=lambda part: len(part[0]))
        docs, sums = parts[0]
        for ids, values in parts[1:]:
            if not len(docs):
                break
            at = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
            found = ids[at] == docs
            docs, sums = docs[found], sums[found] + values[at[found]]
        return docs, sums

    def _score(self, q_norm: str) -> np.ndarray:
        query: Plan = plan(q_norm, self.synonyms)
        cap = len(self._docs.alive)
        n_docs = max(len(self), 1)
        scores = np.zeros(cap, dtype=np.float32)
        matched = np.zeros(cap, dtype=np.float32)
        for slot in query.slots:
            self._slot(slot, scores, matched, n_docs)
        # Coordination: a dataset matching every query word beats one matching a frequent word many times.
        scores *= (np.minimum(matched, query.counted) / query.counted) ** 2
        scores *= self._docs.prior(KIND_PRIOR)
        self._boost_names(q_norm, scores)
        return scores

    def _boost_names(self, q_norm: str, scores: np.ndarray) -> None:
        docs = self._docs
        exact = docs.lookup(q_norm)
        if exact is not None:
            scores[exact] += EXACT_NAME_BOOST
        for doc in docs.short(q_norm):
            if doc != exact:
                scores[doc] += SHORT_NAME_BOOST - docs.rank[doc]
        if len(q_norm) >= 3 and _NAME_LIKE.fullmatch(q_norm):
            candidates = np.flatnonzero(scores > 0)
            if len(candidates) <= 5000:
                for doc in candidates.tolist():
                    if q_norm in docs.name(doc).lower():
                        scores[doc] += NAME_SUBSTRING_BOOST

    def query(self, q: str = "", facets: dict[str, Any] | None = None, sort: str = "relevance", start: int = 0,
              rows: int | None = 20, facet_fields: tuple[str, ...] = (), drill_down: bool = True,
              may_see: Callable[[str, str, str], bool] | None = None, suggest: bool = True) -> SearchResult:
        """Ranked (or, without words, browsed) hits after the facets, their total, and facet counts: drill-down
        (each facet counted with the other facets applied) for pages, or all applied (as Solr/CKAN count).
        `may_see(schema, department, sharing_type)` restricts hits, totals and counts to what the caller may see.
        The audit zone is left out unless a zone or kind facet is given or the query names the dataset."""
        facets = {k: v for k, v in (facets or {}).items() if v not in (None, "", [], ())}
        check_facets(facets)
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}; known: {', '.join(SORTS)}")
        q_norm = (q or "").strip().lower().removeprefix("lake.")
        with self._lock:
            docs = self._docs
            allowed = docs.allowed(facets)
            end = None if rows is None else start + rows
            scores = self._score(q_norm) if q_norm else None
            seen = docs.alive & (scores > 0) if scores is not None else docs.alive.copy()
            if may_see is not None:
                seen &= docs.visible(may_see)
            base, hidden = seen, None
            if "zone" not in facets and "kind" not in facets:
                hidden = docs.mask("zone", list(HIDDEN_ZONES))
                exact = docs.lookup(q_norm) if q_norm else None
                if exact is not None:
                    hidden[exact] = False
                base = seen & ~hidden
            pool = base if allowed is None else base & allowed
            total = int(np.count_nonzero(pool))
            if scores is None:
                order = docs.order(sort)
                ranked = order[pool[order]][start:end].tolist()
            else:
                ranked = self._rank(np.flatnonzero(pool), scores, sort, start, end)
            hits = [{**docs.meta(d), "score": round(float(scores[d]), 4) if scores is not None else 0.0}
                    for d in ranked]
            counts = {}
            for f in facet_fields:
                within = seen if f == "zone" else base  # the zone facet shows where the hidden hits are
                if not drill_down:
                    counts[f] = docs.counts(f, pool if f != "zone" else (seen if allowed is None else seen & allowed))
                    continue
                others = docs.allowed({k: v for k, v in facets.items() if k != f})
                counts[f] = docs.counts(f, within if others is None else within & others)
            result = SearchResult(total, hits, counts)
            if total == 0 and q_norm and suggest:
                result.suggestions, result.elsewhere = suggestions(self, q_norm, facets, seen, hidden, may_see)
            return result

    def _rank(self, ids: np.ndarray, scores: np.ndarray, sort: str, start: int, end: int | None) -> list[int]:
        docs = self._docs
        if sort == "freshness":
            ids = ids[np.lexsort((-scores[ids], -docs.fresh[ids]))]
            return ids[start:end].tolist()
        k = len(ids) if end is None else min(end, len(ids))
        if 0 < k < len(ids):
            # Ties at the cut are kept whole so the name/kind tie-break below stays deterministic.
            cut = np.partition(-scores[ids], k - 1)[k - 1]
            ids = ids[-scores[ids] <= cut]
        top = sorted(ids.tolist(), key=lambda d: (-float(scores[d]), int(docs.rank[d]), docs.name(d)))
        return top[start:end]

    def search(self, q: str, limit: int = 20, sort: str = "relevance", **facets: Any) -> list[dict[str, Any]]:
        """Ranked hits; an empty query browses everything that matches the facets. limit=0 means all."""
        return self.query(q, facets, sort=sort, rows=limit or None).hits


__all__ = ["FACETS", "HAN", "SearchIndex", "SearchResult", "add_words", "check_facets", "matches_facets", "stem",
           "zone_of"]
