"""In-process dataset search: jieba words, pinyin (full and initials), stemmed English, BM25F scoring, facets."""

from __future__ import annotations

import bisect
import logging
import math
import re
import threading
from collections import Counter
from typing import Any

import jieba
from pypinyin import Style, lazy_pinyin

FACETS = ("department", "sharing_type", "kind", "classification")
# Field weights: a word in the title or keywords says more about a dataset than one in a column list.
FIELD_WEIGHTS = {"name": 3.0, "title": 3.0, "keywords": 2.5, "department": 1.5, "description": 1.0, "columns": 1.0}
K1, B = 1.2, 0.75
EXACT_NAME_BOOST, SHORT_NAME_BOOST, NAME_SUBSTRING_BOOST = 1000.0, 500.0, 5.0
FALLBACK_WEIGHT = 0.5  # prefix/substring matches count, but less than whole-word matches
KIND_ORDER = {"published": 0, "model": 1, "raw_stream": 2}

_HAN = re.compile(r"[\u4e00-\u9fff]")
_CHUNK = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")
_NAME_LIKE = re.compile(r"[a-z0-9_.]+")
_STOP = frozenset(
    ["a", "an", "and", "the", "of", "in", "on", "for", "to", "by", "with", "or", "is", "are"]
    + ["的", "和", "与", "及", "或", "等", "在", "为", "按"]
)

_tokenizer: jieba.Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def _jieba() -> jieba.Tokenizer:
    """A private jieba tokenizer, so custom words added here do not change segmentation elsewhere."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            # jieba prints "Building prefix dict..." to stderr at first use; nobody running the CLI needs that.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            _tokenizer = tok
        return _tokenizer


def add_words(words: list[str]) -> None:
    """Teach the segmenter curated keywords (低保, 市场主体) so documents and queries split the same way."""
    tok = _jieba()
    for word in words:
        if _HAN.search(word) and len(word) >= 2:
            tok.add_word(word)


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed. Applied identically to documents and queries."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix, min_len in (("ing", 6), ("ed", 5)):
        if len(word) >= min_len and word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return base
    return word


def _latin(word: str) -> str:
    word = word.lower()
    return word if word.isdigit() else stem(word)


def tokenize(text: str, pinyin: bool = True) -> list[str]:
    """Index terms of a text: Chinese words (+ their pinyin and initials) and stemmed Latin words."""
    terms: list[str] = []
    for chunk in _CHUNK.findall(text or ""):
        if not _HAN.match(chunk):
            word = _latin(chunk)
            if word not in _STOP:
                terms.append(word)
            continue
        for word in _jieba().cut_for_search(chunk):
            if word in _STOP:
                continue
            terms.append(word)
            if pinyin:
                terms.append("".join(lazy_pinyin(word)))
                if len(word) > 1:
                    terms.append("".join(lazy_pinyin(word, style=Style.FIRST_LETTER)))
        if pinyin and len(chunk) > 2:
            # Whole-phrase pinyin lets "hujirenkou" or "hjrk" find 户籍人口 without spaces.
            terms.append("".join(lazy_pinyin(chunk)))
            terms.append("".join(lazy_pinyin(chunk, style=Style.FIRST_LETTER)))
    return terms


def name_terms(name: str) -> list[str]:
    """The dataset name itself plus its parts: shared.resident_profile -> resident, profile, shared."""
    parts = [p for p in re.split(r"[._]+", name.lower()) if p]
    return [name.lower(), name.lower().rsplit(".", 1)[-1]] + [_latin(p) for p in parts]


class SearchIndex:
    """BM25F over a few weighted fields; documents are replaced whole on re-register (no re-index step)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._docs: dict[str, dict[str, Any]] = {}  # name -> {"meta", "fields": {field: Counter}, "lens"}
        self._postings: dict[str, set[str]] = {}
        self._vocab: list[str] = []  # sorted, for prefix fallback
        self._len_totals: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, entry: dict[str, Any]) -> None:
        """Index (or re-index) one dataset given as a dict with the DatasetEntry fields."""
        add_words([k for k in entry.get("keywords", []) if isinstance(k, str)])
        columns = " ".join(f"{c.get('name', '')} {c.get('description', '')}" for c in entry.get("columns", []))
        fields = {
            "name": Counter(name_terms(entry["name"])),
            "title": Counter(tokenize(f"{entry.get('title_zh', '')} {entry.get('title_en', '')}")),
            "keywords": Counter(tokenize(" ".join(entry.get("keywords", [])))),
            "department": Counter(tokenize(f"{entry.get('department_name', '')} {entry.get('department_code', '')}")),
            "description": Counter(tokenize(entry.get("description", ""))),
            "columns": Counter(tokenize(columns.replace("_", " "), pinyin=False))
            + Counter(c.get("name", "").lower() for c in entry.get("columns", [])),
        }
        meta = {
            "name": entry["name"],
            "title_zh": entry.get("title_zh", ""),
            "title_en": entry.get("title_en", ""),
            "description": entry.get("description", ""),
            "department": entry.get("department_code", ""),
            "department_name": entry.get("department_name", ""),
            "sharing_type": entry.get("sharing_type", ""),
            "kind": entry.get("kind", ""),
            "classification": entry.get("classification", ""),
        }
        with self._lock:
            self.remove(entry["name"])
            lens = {f: sum(c.values()) for f, c in fields.items()}
            self._docs[entry["name"]] = {"meta": meta, "fields": fields, "lens": lens}
            self._len_totals.update(lens)
            for counter in fields.values():
                for term in counter:
                    if term not in self._postings:
                        self._postings[term] = set()
                        bisect.insort(self._vocab, term)
                    self._postings[term].add(entry["name"])

    def remove(self, name: str) -> None:
        with self._lock:
            doc = self._docs.pop(name, None)
            if doc is None:
                return
            self._len_totals.subtract(doc["lens"])
            for counter in doc["fields"].values():
                for term in counter:
                    docs = self._postings.get(term)
                    if docs is not None:
                        docs.discard(name)
                        if not docs:
                            del self._postings[term]
                            i = bisect.bisect_left(self._vocab, term)
                            if i < len(self._vocab) and self._vocab[i] == term:
                                self._vocab.pop(i)

    def _expand(self, term: str) -> list[tuple[str, float]]:
        """The query term itself if indexed; otherwise prefix (Latin) or substring (Chinese) matches."""
        if term in self._postings:
            return [(term, 1.0)]
        if _HAN.search(term):
            return [(t, FALLBACK_WEIGHT) for t in self._vocab if term in t and _HAN.search(t)][:50]
        if len(term) < 2:
            return []
        i = bisect.bisect_left(self._vocab, term)
        out = []
        while i < len(self._vocab) and self._vocab[i].startswith(term) and len(out) < 50:
            out.append((self._vocab[i], FALLBACK_WEIGHT))
            i += 1
        return out

    def _bm25(self, doc: dict[str, Any], term: str, n_docs: int) -> float:
        wtf = 0.0
        for field, weight in FIELD_WEIGHTS.items():
            tf = doc["fields"][field].get(term, 0)
            if tf:
                avg = max(self._len_totals[field] / n_docs, 1.0)
                wtf += weight * tf / (1 - B + B * doc["lens"][field] / avg)
        df = len(self._postings.get(term, ()))
        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        return idf * wtf * (K1 + 1) / (wtf + K1)

    def search(self, q: str, limit: int = 20, **facets: Any) -> list[dict[str, Any]]:
        """Ranked hits; an empty query browses everything that matches the facets."""
        check_facets(facets)
        q_norm = (q or "").strip().lower().removeprefix("lake.")
        # A name-like query ("resident_profile") is also looked up whole, as the name field holds it whole.
        whole = [q_norm] if _NAME_LIKE.fullmatch(q_norm) else []
        terms = list(dict.fromkeys(tokenize(q_norm, pinyin=False) + whole))
        with self._lock:
            n_docs = max(len(self._docs), 1)
            expanded = [(orig, self._expand(orig)) for orig in terms]
            hits = []
            for name, doc in self._docs.items():
                meta = doc["meta"]
                if not matches_facets(meta, facets):
                    continue
                score = 0.0
                for _, variants in expanded:
                    score += max((w * self._bm25(doc, t, n_docs) for t, w in variants if name in
                                  self._postings.get(t, ())), default=0.0)
                if q_norm:
                    short = name.lower().rsplit(".", 1)[-1]
                    if name.lower() == q_norm:
                        score += EXACT_NAME_BOOST
                    elif short == q_norm:
                        score += SHORT_NAME_BOOST - KIND_ORDER.get(meta["kind"], 3)
                    elif len(q_norm) >= 3 and q_norm in name.lower():
                        score += NAME_SUBSTRING_BOOST
                    if score <= 0:
                        continue
                hits.append({**meta, "score": round(score, 4)})
        hits.sort(key=lambda h: (-h["score"], KIND_ORDER.get(h["kind"], 3), h["name"]))
        return hits[:limit] if limit else hits


def check_facets(facets: dict[str, Any]) -> None:
    unknown = set(facets) - set(FACETS)
    if unknown:
        raise ValueError(f"unknown facet(s) {sorted(unknown)}; known: {', '.join(FACETS)}")


def matches_facets(meta: dict[str, Any], facets: dict[str, Any]) -> bool:
    """A facet value may be a single value or a list of accepted values; None/"" means no filter."""
    for key, wanted in facets.items():
        if wanted in (None, "", [], ()):
            continue
        accepted = {wanted} if isinstance(wanted, str) else set(wanted)
        if meta.get(key) not in accepted:
            return False
    return True
