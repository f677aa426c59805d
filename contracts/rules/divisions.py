"""GB/T 2260 administrative division codes: county level from the cpca package, townships from the dbt seed."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from pathlib import Path

TOWNSHIP_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "townships.csv"


@cache
def county_codes() -> frozenset[str]:
    """6-digit province, prefecture and county codes (cpca ships them as 12-digit adcodes)."""
    text = resources.files("cpca").joinpath("resources/adcodes.csv").read_text(encoding="utf-8")
    return frozenset(row["adcode"][:6] for row in csv.DictReader(text.splitlines()))


@cache
def township_codes(seed: Path = TOWNSHIP_SEED) -> frozenset[str]:
    """9-digit township codes of the county (GB/T 2260 stops at county level; the county keeps this list)."""
    with seed.open(encoding="utf-8") as fh:
        codes = frozenset(row["township_code"] for row in csv.DictReader(fh))
    unknown = sorted(c for c in codes if c[:6] not in county_codes())
    if unknown:
        raise ValueError(f"{seed}: townships outside any GB/T 2260 county: {unknown}")
    return codes


def division_missing_sql(col: str) -> str:
    """TRUE when col is not NULL and is neither a known county-level nor a known township code."""
    codes = ", ".join(f"('{c}')" for c in sorted(county_codes() | township_codes()))
    return (f"({col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM (VALUES {codes}) AS _div(code) "
            f"WHERE _div.code = CAST({col} AS VARCHAR)))")
