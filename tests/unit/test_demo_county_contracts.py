"""The county-scale generator writes what the contracts accept: a gate that fails only at real size is a bug."""

from __future__ import annotations

import random
import re

import yaml

from countyhub.core.settings import PROJECT_DIR
from countyhub.demo.urban import build_urban, build_urban_county


def _pattern(contract: str, column: str) -> str:
    data = yaml.safe_load((PROJECT_DIR / "contracts" / contract).read_text(encoding="utf-8"))
    [prop] = [p for p in data["schema"][0]["properties"] if p["name"] == column]
    return prop["logicalTypeOptions"]["pattern"]


def test_grid_codes_at_both_scales_match_the_urban_grids_contract() -> None:
    pattern = re.compile(_pattern("cgj/urban_grids.odcs.yaml", "grid_code"))
    county = build_urban_county(random.Random(1), grids=2087, facilities=1, cases=1)["grids"]
    demo = build_urban(random.Random(1))["grids"]
    assert len(county) == 2087 and len({g[0] for g in county}) == 2087
    # More than 99 cells in a township at county scale: three-digit cell numbers.
    assert any(g[0].endswith("-100") for g in county)
    assert [g[0] for g in county + demo if not pattern.match(g[0])] == []
