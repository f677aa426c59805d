"""What a query asks for: one slot per word, each with the phrases that may stand in for it (synonyms)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from countyhub.catalog.synonyms import Synonyms
from countyhub.catalog.text import tokenize

_NAME_LIKE = re.compile(r"[a-z0-9_.]+")


@dataclass(frozen=True)
class Slot:
    """One thing the query asks for: alternatives of (index terms, weight); the best-matching alternative counts."""

    alternatives: tuple[tuple[tuple[str, ...], float], ...]

    @classmethod
    def word(cls, term: str) -> Slot:
        return cls((((term,), 1.0),))


@dataclass(frozen=True)
class Plan:
    slots: tuple[Slot, ...]
    counted: int  # slots the coordination factor counts (the whole-name slot is a bonus, not a requirement)


def plan(q_norm: str, synonyms: Synonyms | None = None) -> Plan:
    """Slots of a lowercased query. Without vocabulary phrases in it, one slot per index term of the query (what
    the ranking always did); a phrase of the vocabulary becomes one slot whose alternatives are its synonyms."""
    whole = [q_norm] if _NAME_LIKE.fullmatch(q_norm) else []
    spans = synonyms.spans(q_norm) if synonyms is not None else []
    if not spans:
        terms = list(dict.fromkeys(tokenize(q_norm, pinyin=False, query=True) + whole))
        return Plan(tuple(Slot.word(t) for t in terms), (len(terms) - len(whole)) or 1)
    slots: list[Slot] = []
    rest, at = [], 0
    for start, end in spans:
        rest.append(q_norm[at:start])
        at = end
        phrase = q_norm[start:end]
        options = {phrase: 1.0} | synonyms.lookup(phrase)
        alternatives = []
        for text, weight in options.items():
            terms = tuple(dict.fromkeys(tokenize(text, pinyin=False, query=True)))
            if terms:
                alternatives.append((terms, weight))
        slots.append(Slot(tuple(alternatives)))
    rest.append(q_norm[at:])
    terms = list(dict.fromkeys(tokenize(" ".join(rest), pinyin=False, query=True)))
    slots += [Slot.word(t) for t in terms]
    counted = len(slots)
    if whole and not any(whole[0] in alt for s in slots for alt, _ in s.alternatives):
        slots.append(Slot.word(whole[0]))
    return Plan(tuple(slots), counted or 1)
