"""The policy table cell by cell, with expectations written out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from countyhub.sharing.model import Access, ColumnInfo, DatasetInfo, Grant, Principal
from countyhub.sharing.policy import decide, may_see_entry

COLUMNS = (ColumnInfo("id_number", "sensitive"), ColumnInfo("name", "sensitive"), ColumnInfo("township_code", "public"),
           ColumnInfo("pin", "secret"), ColumnInfo("age", "internal"))
ALL = ("id_number", "name", "township_code", "pin", "age")
NOW = datetime(2025, 3, 3, 9, 0)


def ds(sharing: str, name: str = "shared.resident_profile") -> DatasetInfo:
    return DatasetInfo(name, "dsj", sharing, COLUMNS)  # type: ignore[arg-type]


def grant(columns: tuple[str, ...], department: str = "mzj", dataset: str = "shared.resident_profile",
          **kw: object) -> Grant:
    values = {"id": 5, "request_id": 3, "dataset": dataset, "department": department, "columns": columns, "purpose": "核验",
                  "legal_basis": "法", "approver": "s", "starts_at": NOW - timedelta(days=1), "expires_at": NOW + timedelta(days=9)}
    return Grant(**(values | kw))  # type: ignore[arg-type]


OWNER = Principal("o", "dsj", "analyst")
OTHER = Principal("m", "mzj", "analyst")


def test_owner_department_reads_every_column_unmasked_whatever_the_sharing_type() -> None:
    for sharing in ("unconditional", "conditional", "not_shared"):
        assert decide(OWNER, ds(sharing), None) == Access(True, "owner department", ALL)


def test_unconditional_other_department_without_grant_gets_sensitive_and_secret_masked() -> None:
    got = decide(OTHER, ds("unconditional"), None)
    assert got.rows and got.columns == ALL and got.grant_id is None
    assert got.masked == {"id_number", "name", "pin"}


def test_unconditional_with_grant_unmasks_granted_columns_only() -> None:
    got = decide(OTHER, ds("unconditional"), grant(("name",)))
    assert got.rows and got.columns == ALL and got.grant_id == 5
    assert got.masked == {"id_number", "pin"}


def test_conditional_without_grant_has_no_rows_and_says_why() -> None:
    got = decide(OTHER, ds("conditional"), None)
    assert got == Access(False, "conditional dataset; no approved grant for department mzj")


def test_conditional_with_grant_returns_all_columns_granted_ones_unmasked() -> None:
    got = decide(OTHER, ds("conditional"), grant(("id_number", "pin")))
    assert got.rows and got.columns == ALL and got.grant_id == 5
    assert got.masked == {"name"}  # a grant naming a secret column unmasks it


def test_not_shared_never_gives_rows_to_another_department_even_with_a_grant() -> None:
    assert decide(OTHER, ds("not_shared"), None) == Access(False, "not shared: data never leaves dsj")
    assert decide(OTHER, ds("not_shared"), grant(ALL)) == Access(False, "not shared: data never leaves dsj")


def test_admin_of_another_department_has_no_bypass() -> None:
    admin = Principal("root", "mzj", "admin")
    assert decide(admin, ds("conditional"), None).rows is False
    assert decide(admin, ds("unconditional"), None).masked == {"id_number", "name", "pin"}


def test_grant_of_another_department_dataset_or_revoked_or_expired_counts_as_none() -> None:
    refused = Access(False, "conditional dataset; no approved grant for department mzj")
    assert decide(OTHER, ds("conditional"), grant(ALL, department="gaj")) == refused
    assert decide(OTHER, ds("conditional"), grant(ALL, dataset="shared.other")) == refused
    assert decide(OTHER, ds("conditional"), grant(ALL, revoked_at=NOW)) == refused
    expired = grant(ALL, expires_at=NOW - timedelta(seconds=1))
    assert decide(OTHER, ds("conditional"), expired, now=NOW) == refused


def test_platform_zones_are_for_engineers_and_admins_of_any_department() -> None:
    raw = DatasetInfo("raw_gaj.persons", "gaj", "conditional", COLUMNS)
    for role in ("analyst", "steward"):
        got = decide(Principal("x", "gaj", role), raw, None)  # type: ignore[arg-type]
        assert got == Access(False, "zone raw_gaj is readable by engineers and admins only")
    assert decide(Principal("e", "gaj", "engineer"), raw, None) == Access(True, "zone raw_gaj", ALL)
    other = decide(Principal("e", "mzj", "engineer"), raw, None)
    assert other.rows and other.masked == {"id_number", "name", "pin"}
    for zone in ("staging", "intermediate", "audit", "quarantine"):
        assert decide(OTHER, DatasetInfo(f"{zone}.x", "dsj", "unconditional", COLUMNS), None).rows is False


def test_catalog_entries_shared_for_all_other_zones_for_engineers_and_admins() -> None:
    raw = DatasetInfo("raw_gaj.persons", "gaj", "conditional")
    assert may_see_entry(OTHER, ds("not_shared"))
    assert not may_see_entry(OTHER, raw)
    assert not may_see_entry(Principal("s", "gaj", "steward"), raw)
    assert may_see_entry(Principal("e", "mzj", "engineer"), raw)
    assert may_see_entry(Principal("a", "mzj", "admin"), DatasetInfo("audit.x", "dsj", "unconditional"))
