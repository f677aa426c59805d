"""Breaking-change rules between a published contract and an edit."""

from __future__ import annotations

import dataclasses

import pytest

from countyhub.contracts.compat import breaking_changes, check, widens
from countyhub.contracts.odcs import load_contract
from countyhub.core.settings import PROJECT_DIR

RESIDENT = load_contract(PROJECT_DIR / "contracts" / "dsj" / "resident_profile.odcs.yaml")


@pytest.mark.parametrize(("old", "new", "ok"), [
    ("INTEGER", "BIGINT", True), ("BIGINT", "INTEGER", False), ("DECIMAL(12,2)", "DECIMAL(14,2)", True),
    ("DECIMAL(12,2)", "DECIMAL(12,3)", False), ("VARCHAR(10)", "VARCHAR", True), ("VARCHAR", "VARCHAR(10)", False),
    ("INTEGER", "DOUBLE", True), ("DATE", "VARCHAR", False), ("varchar", "VARCHAR", True)])
def test_widening(old: str, new: str, ok: bool) -> None:
    assert widens(old, new) is ok


def _edit(**changes: object) -> object:
    return dataclasses.replace(RESIDENT, **changes)


def test_breaking_changes_need_a_major_version() -> None:
    cols = list(RESIDENT.columns)
    narrowed = [dataclasses.replace(c, physical_type="SMALLINT") if c.name == "age" else c for c in cols]
    required = [dataclasses.replace(c, required=True) if c.name == "phone" else c for c in cols]
    edits = {"removed": _edit(columns=tuple(c for c in cols if c.name != "phone")),
             "narrowed": _edit(columns=tuple(narrowed)), "required": _edit(columns=tuple(required))}
    assert [str(c) for c in breaking_changes(RESIDENT, edits["removed"])] == ["phone: removed"]
    assert [str(c) for c in breaking_changes(RESIDENT, edits["narrowed"])] == ["age: type narrowed INTEGER -> SMALLINT"]
    assert [str(c) for c in breaking_changes(RESIDENT, edits["required"])] == ["phone: required added"]
    for edited in edits.values():
        assert check(RESIDENT, edited)[0] is False
        assert check(RESIDENT, dataclasses.replace(edited, version="2.0.0"))[0] is True


def test_compatible_edit_passes() -> None:
    widened = tuple(dataclasses.replace(c, physical_type="BIGINT") if c.name == "age" else c for c in RESIDENT.columns)
    assert check(RESIDENT, _edit(columns=widened, version="1.2.0")) == (True, [])
