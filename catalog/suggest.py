"""What to offer when a search finds nothing: the nearest words that do find something, and hits outside filters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from countyhub.catalog.text import HAN, tokenize

if TYPE_CHECKING:
    from countyhub.catalog.search import SearchIndex

MAX_SUGGESTIONS = 3


def suggestions(index: SearchIndex, q_norm: str, facets: dict[str, Any], seen: np.ndarray,
                hidden: np.ndarray | None, may_see: Callable[[str, str, str], bool] | None,
                ) -> tuple[list[dict[str, Any]], dict[str, Counter]]:
    """([{q, total}] rewritten queries that find something, {facet: counts} of the hits the filters hid):
    `seen` are the hits before any filter, `hidden` the documents of the zones left out by default."""
    elsewhere: dict[str, Counter] = {}
    if seen.any():
        # Only the filters the caller set, and the audit zone when that is where the hits are.
        docs = index._docs
        elsewhere = {f: c for f in facets if (c := docs.counts(f, seen))}
        if hidden is not None and (zones := docs.counts("zone", seen & hidden)):
            elsewhere["zone"] = zones
    out: list[dict[str, Any]] = []
    words = q_norm.split()
    for i, word in enumerate(words):
        if all(term in index._postings for term in tokenize(word, pinyin=False, query=True)):
            continue
        for candidate in _nearest(index, word):
            rewritten = " ".join(words[:i] + [candidate] + words[i + 1:])
            total = index.query(rewritten, facets, rows=0, may_see=may_see, suggest=False).total
            if total and all(s["q"] != rewritten for s in out):
                out.append({"q": rewritten, "total": total})
            if len(out) >= MAX_SUGGESTIONS:
                return out, elsewhere
    return out, elsewhere


def _nearest(index: SearchIndex, word: str) -> list[str]:
    vocab = index._vocab
    if HAN.search(word):
        return vocab.similar_han(word)
    if len(word) < 3:
        return []
    found = vocab.near(word, 1 if len(word) < 6 else 2)
    # The nearest first, then the word more datasets use: 'enterprize' -> enterprise before enterprises.
    found.sort(key=lambda item: (item[1], -len(index._postings.get(item[0])[0])))
    return [t for t, _ in found if t != word][:MAX_SUGGESTIONS]
