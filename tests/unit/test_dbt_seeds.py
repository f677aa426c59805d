"""The department inventory's seeds are derived from the department files and the contracts, row for row."""

from __future__ import annotations

import csv
import io

from countyhub.contracts.odcs import load_contracts
from countyhub.core.departments import load_departments
from countyhub.core.settings import PROJECT_DIR
from countyhub.flow.dbt_seeds import RESOURCES_SEED, departments_csv, resources_csv, seed_files

DEPARTMENTS = load_departments(PROJECT_DIR / "departments")
CONTRACTS = load_contracts(PROJECT_DIR / "contracts")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_stream_is_held_and_every_contract_shared_by_its_department() -> None:
    rows = {r["resource_name"]: r for r in _rows(resources_csv(DEPARTMENTS, CONTRACTS))}
    streams = {(d.code, f"raw_{d.code}.{s.name}") for d in DEPARTMENTS for src in d.sources for s in src.streams}
    held = {(r["department_code"], name) for name, r in rows.items() if r["resource_kind"] == "held"}
    assert held == streams
    shared = {(r["department_code"], name) for name, r in rows.items() if r["resource_kind"] == "shared"}
    assert shared == {(c.department, f"shared.{c.dataset}") for c in CONTRACTS}
    cases = rows["raw_cgj.cases"]
    assert (cases["title_zh"], cases["classification"], cases["sharing_type"], cases["update_cycle"]) == (
        "城管案件", "internal", "unconditional", "@hourly")
    profile = rows["shared.resident_profile"]
    assert profile["sharing_type"] == "conditional" and profile["sharing_conditions"]
    assert set(profile["source_departments"].split(",")) >= {"gaj", "mzj"}


def test_departments_seed_names_each_department_once() -> None:
    rows = _rows(departments_csv(DEPARTMENTS))
    assert [r["department_code"] for r in rows] == [d.code for d in DEPARTMENTS]
    assert set(seed_files(DEPARTMENTS, CONTRACTS)) >= {RESOURCES_SEED}
