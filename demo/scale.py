"""Scale presets of the demo county: the quick `demo` default and the real size of Dazhu (`county`)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scale:
    """How big a generated county is. grids/facilities/cases None: the demo's 3-6 grids per township layout."""

    name: str
    persons: int
    grids: int | None = None
    facilities: int | None = None
    cases: int | None = None
    persons_per_enterprise: int = 12

    def with_persons(self, persons: int | None) -> Scale:
        return self if persons is None else replace(self, persons=persons)


SCALES: dict[str, Scale] = {
    "demo": Scale("demo", persons=5000),
    # Dazhu: ~1M registered residents, 2,087 grid cells, 109,053 urban facilities, ~50k enterprises and a
    # year of urban-management cases (~300k).
    "county": Scale("county", persons=1_000_000, grids=2087, facilities=109_053, cases=300_000,
                    persons_per_enterprise=20),
}


def resolve(scale: str | Scale, persons: int | None = None) -> Scale:
    """A preset by name (or a Scale as given), with `persons` overriding its population."""
    if isinstance(scale, Scale):
        return scale.with_persons(persons)
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: one of {', '.join(SCALES)}")
    return SCALES[scale].with_persons(persons)
