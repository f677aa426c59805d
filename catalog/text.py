"""Index terms of catalog text: jieba words, their pinyin (full and initials), stemmed English, dataset names."""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jieba

HAN = re.compile(r"[\u4e00-\u9fff]")
_CHUNK = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")
STOP = frozenset(
    ["a", "an", "and", "the", "of", "in", "on", "for", "to", "by", "with", "or", "is", "are"]
    + ["的", "和", "与", "及", "或", "等", "在", "为", "按"]
)

_tokenizer: jieba.Tokenizer | None = None
_query_tokenizer: jieba.Tokenizer | None = None  # the saved index's own words: no second to load the full one
_tokenizer_lock = threading.Lock()
_known_words: set[str] = set()


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
            # Sorted: documents split the same whatever order their keywords were taught in.
            for word in sorted(_known_words):
                tok.add_word(word)
            _tokenizer = tok
            _han_terms.cache_clear()  # splits made with the query tokenizer are redone with the full one
        return _tokenizer


def add_words(words: list[str]) -> None:
    """Teach the segmenter curated keywords (低保, 市场主体) so documents and queries split the same way."""
    new = sorted({w for w in words if isinstance(w, str) and HAN.search(w) and len(w) >= 2} - _known_words)
    if not new:
        return
    _known_words.update(new)
    for tok in (_tokenizer, _query_tokenizer):
        for word in new if tok is not None else ():
            tok.add_word(word)
    _han_terms.cache_clear()  # segmentation changed: cached splits may be stale


def query_words(terms: Iterable[str]) -> dict[str, Any]:
    """What a query tokenizer needs to split queries as the full dictionary splits them into these index terms:
    their dictionary frequencies, every single character's, the taught words', and the dictionary total."""
    tok = _jieba()
    freq = tok.FREQ
    # Every dictionary word inside an index term: a query word that is one still splits out and finds the
    # terms containing it (the substring fallback), as with the full dictionary.
    words = {w: freq[w] for t in terms for i in range(len(t)) for j in range(i + 2, len(t) + 1)
             if freq.get(w := t[i:j])}
    words |= {w: f for w, f in freq.items() if len(w) == 1 and f}
    words |= {w: freq[w] for w in _known_words if freq.get(w)}
    return {"total": tok.total, "freq": words, "taught": sorted(_known_words)}


def use_query_words(saved: dict[str, Any]) -> None:
    """Split queries with a saved index's words until the full dictionary is loaded anyway (it takes a second
    and 60 MB). A query of catalog words splits exactly as before; a dictionary word found nowhere in the catalog
    (which matches nothing either way) is split into smaller words, so it counts as two query words, not one."""
    global _query_tokenizer
    freq = dict(saved["freq"])
    for word in list(freq):
        for i in range(1, len(word)):
            freq.setdefault(word[:i], 0)  # jieba's prefix entries: the DAG walks a word through them
    tok = jieba.Tokenizer()
    tok.FREQ, tok.total, tok.initialized = freq, saved["total"], True
    with _tokenizer_lock:
        _query_tokenizer = tok
        _known_words.update(saved.get("taught", []))
    _han_terms.cache_clear()


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


def latin(word: str) -> str:
    word = word.lower()
    return word if word.isdigit() else stem(word)


@lru_cache(maxsize=65536)
def _pinyin(word: str) -> tuple[str, str]:
    # Imported here: its phrase dictionary is 56 MB, and a process that only searches never needs it.
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(word)), "".join(lazy_pinyin(word, style=Style.FIRST_LETTER))


@lru_cache(maxsize=32768)
def _han_terms(chunk: str, pinyin: bool, query: bool = False) -> tuple[str, ...]:
    """Terms of one run of Chinese characters; cached because catalog titles repeat the same words endlessly."""
    tok = _query_tokenizer if query and _tokenizer is None and _query_tokenizer is not None else _jieba()
    terms: list[str] = []
    for word in tok.cut_for_search(chunk):
        if word in STOP:
            continue
        terms.append(word)
        if pinyin:
            full, initials = _pinyin(word)
            terms.append(full)
            if len(word) > 1:
                terms.append(initials)
    words = [w for w in tok.cut(chunk) if w not in STOP]
    # A single character jieba left alone (天 of 天城镇 -> 天 / 城镇) joins its neighbours as a bigram,
    # so the place name people actually type (天城) is still a term.
    for i, word in enumerate(words):
        if len(word) == 1 and HAN.match(word):
            if i + 1 < len(words):
                terms.append(word + words[i + 1][0])
            if i > 0:
                terms.append(words[i - 1][-1] + word)
    if pinyin:
        spelled = [_pinyin(w) for w in words]  # per word: cached, and word-level pinyin gets polyphones right
        # Pinyin of adjacent word pairs lets "hujirenkou" / "hjrk" find 户籍人口 inside a longer title.
        for (lf, li), (rf, ri) in itertools.pairwise(spelled):
            terms += [lf + rf, li + ri]
        if len(chunk) > 2:
            terms += ["".join(f for f, _ in spelled), "".join(i for _, i in spelled)]
    return tuple(terms)


def tokenize(text: str, pinyin: bool = True, query: bool = False) -> list[str]:
    """Index terms of a text: Chinese words (+ their pinyin and initials) and stemmed Latin words. A query may be
    split with the saved index's words (use_query_words); documents always with the full dictionary."""
    terms: list[str] = []
    for chunk in _CHUNK.findall(text or ""):
        if HAN.match(chunk):
            terms += _han_terms(chunk, pinyin, query)
        else:
            word = latin(chunk)
            if word not in STOP:
                terms.append(word)
    return terms


def name_terms(name: str) -> list[str]:
    """The dataset name itself plus its parts: shared.resident_profile -> resident, profile, shared."""
    lowered = name.lower()
    parts = [p for p in re.split(r"[._]+", lowered) if p]
    return [lowered, lowered.rsplit(".", 1)[-1]] + [latin(p) for p in parts]
