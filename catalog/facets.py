"""Search facets: which entry field each facet reads, and filtering plain dicts the same way the index does."""

from __future__ import annotations

from typing import Any

# facet -> the meta key it reads; theme and tag are multi-valued (a dataset has several of each).
FACETS = ("department", "sharing_type", "kind", "zone", "resource_class", "theme", "classification", "gate_status",
          "update_cycle", "tag")
FACET_KEYS = {"theme": "themes", "tag": "keywords"}
SORTS = ("relevance", "freshness")


def check_facets(facets: dict[str, Any]) -> None:
    unknown = set(facets) - set(FACETS)
    if unknown:
        raise ValueError(f"unknown facet(s) {sorted(unknown)}; known: {', '.join(FACETS)}")


def facet_values(meta: dict[str, Any], facet: str) -> list[str]:
    value = meta.get(FACET_KEYS.get(facet, facet))
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


def doc_facets(meta: dict[str, Any]) -> dict[str, list[str]]:
    return {f: facet_values(meta, f) for f in FACETS}


def matches_facets(meta: dict[str, Any], facets: dict[str, Any]) -> bool:
    """A facet value may be a single value or a list of accepted values; None/"" means no filter."""
    for key, wanted in facets.items():
        if wanted in (None, "", [], ()):
            continue
        accepted = {wanted} if isinstance(wanted, str) else set(wanted)
        if not accepted & set(facet_values(meta, key)):
            return False
    return True
