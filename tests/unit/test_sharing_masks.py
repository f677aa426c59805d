"""Masks on real-looking values, the SQL and Python masks agreeing, and the name rules against the real contracts."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from countyhub.contracts.odcs import load_contracts
from countyhub.core.settings import PROJECT_DIR
from countyhub.sharing.masks import REDACTED, column_kind, mask_row, mask_sql, mask_value, pseudonym, pseudonym_column
from countyhub.sharing.model import ColumnInfo

CASES = [
    (ColumnInfo("id_number", "sensitive"), "511724199003071234", "511724********1234"),
    (ColumnInfo("legal_rep_id_number", "sensitive"), "51302919850101002X", "513029********002X"),
    (ColumnInfo("name", "sensitive"), "张三", "张*"),
    (ColumnInfo("name", "sensitive"), "欧阳娜娜", "欧***"),
    (ColumnInfo("name", "sensitive"), "王", "王*"),
    (ColumnInfo("contact_phone", "sensitive"), "13812345678", "138****5678"),
    (ColumnInfo("mobile", "sensitive"), "13987654321", "139****4321"),
    (ColumnInfo("address", "sensitive"), "四川省达州市大竹县竹阳街道人民路1号", "四川省达州市大竹县竹阳街道"),
    (ColumnInfo("home_address", "sensitive"), "大竹县观音镇场镇3号", "大竹县观音镇"),
    (ColumnInfo("address", "sensitive"), "大竹县川主乡白塔村2组", "大竹县川主乡"),
    (ColumnInfo("address", "sensitive"), "达州市通川区朝阳街办西外路", "达州市通川区朝阳街办"),
    (ColumnInfo("address", "sensitive"), "北京市海淀区中关村南大街5号", "北京市海淀区…"),
    (ColumnInfo("address", "sensitive"), "人民路1号", "人…"),
    (ColumnInfo("household_id", "sensitive"), 4711, "4***"),
    (ColumnInfo("birth_date", "sensitive"), date(1990, 3, 7), "1***"),
    (ColumnInfo("receives_subsidy", "sensitive"), True, "t***"),
    (ColumnInfo("monthly_subsidy_amount", "sensitive"), Decimal("560.00"), "5***"),
    (ColumnInfo("id_number", "secret"), "511724199003071234", REDACTED),
    (ColumnInfo("pin", "secret"), "1234", REDACTED),
    (ColumnInfo("x", "sensitive", semantic="phone"), "13500001111", "135****1111"),
]


@pytest.mark.parametrize(("column", "value", "expected"), CASES)
def test_python_mask(column: ColumnInfo, value: object, expected: str) -> None:
    assert mask_value(column, value) == expected


def test_sql_masks_give_the_same_text_as_python() -> None:
    con = duckdb.connect()
    for column, value, expected in CASES:
        got = con.execute(f"SELECT {mask_sql(column, 'v')} FROM (SELECT ? AS v)", [value]).fetchone()[0]
        assert got == expected, (column, value)
    for column, _, _ in CASES:  # NULL stays NULL (nothing to mask), in both
        assert con.execute(f"SELECT {mask_sql(column, 'v')} FROM (SELECT NULL::VARCHAR AS v)").fetchone()[0] is None
        assert mask_value(column, None) is None


def test_mask_row_masks_only_the_masked_columns() -> None:
    cols = (ColumnInfo("name", "sensitive"), ColumnInfo("township_name", "public"))
    row = {"name": "李娜", "township_name": "竹阳街道"}
    assert mask_row(row, cols, frozenset({"name"})) == {"name": "李*", "township_name": "竹阳街道"}


def test_name_rules_on_the_real_shared_columns() -> None:
    kinds = {(c.dataset, col.name): column_kind(ColumnInfo(col.name, col.classification))  # type: ignore[arg-type]
             for c in load_contracts(PROJECT_DIR / "contracts") for col in c.columns}
    person = {k: v for k, v in kinds.items() if v != "other"}
    people = {  # every person column of the shared datasets, each classified sensitive (tested below)
        ("resident_profile", "id_number"): "id_number", ("resident_profile", "name"): "name",
        ("resident_profile", "phone"): "phone",
        ("resident_master_index", "id_number"): "id_number", ("resident_master_index", "name"): "name",
        ("resident_master_index", "address"): "address", ("resident_master_index", "phone"): "phone",
        ("resident_conflicts", "id_number"): "id_number",
        ("household", "head_id_number"): "id_number", ("household", "head_name"): "name",
        ("household", "address"): "address",
        ("property_housing", "id_number"): "id_number", ("property_housing", "name"): "name",
        ("eligibility_primary_school_enrollment", "student_id_number"): "id_number",
        ("eligibility_primary_school_enrollment", "student_name"): "name",
        ("eligibility_primary_school_enrollment", "guardian_id_number"): "id_number",
        ("eligibility_primary_school_enrollment", "guardian_name"): "name",
        ("eligibility_public_rental_housing", "applicant_id_number"): "id_number",
        ("eligibility_public_rental_housing", "applicant_name"): "name",
        ("eligibility_talent_housing_subsidy", "id_number"): "id_number",
        ("eligibility_talent_housing_subsidy", "name"): "name",
    }
    assert person == {**people, ("enterprise_registry", "name"): "name"}  # classified public there: never masked
    levels = {(c.dataset, col.name): col.classification for c in load_contracts(PROJECT_DIR / "contracts")
              for col in c.columns}
    assert {levels[k] for k in people} == {"sensitive"}
    # The conflicts list carries names, addresses and birth dates in its value columns: masked as sensitive.
    assert levels[("resident_conflicts", "department_value")] == levels[("resident_conflicts", "master_value")] == \
        "sensitive"
    assert kinds[("resident_profile", "township_name")] == "other"
    assert kinds[("urban_grids", "grid_name")] == "other"
    assert kinds[("township_overview", "township_name")] == "other"


def test_name_rules_for_suffixes() -> None:
    assert column_kind(ColumnInfo("head_id_number")) == "id_number"
    assert column_kind(ColumnInfo("applicant_name")) == "name"
    assert column_kind(ColumnInfo("enterprise_name")) == "other"
    assert column_kind(ColumnInfo("village_name")) == "other"
    assert column_kind(ColumnInfo("office_phone")) == "phone"
    assert column_kind(ColumnInfo("office_address")) == "address"
    assert column_kind(ColumnInfo("身份证号")) == "id_number"
    assert column_kind(ColumnInfo("姓名")) == "name"


def test_pseudonym_is_hmac_sha256_of_the_normalised_id() -> None:
    key = b"county-key"
    expected = hmac.new(key, b"51302919850101002X", hashlib.sha256).hexdigest()
    assert pseudonym(key, "51302919850101002x ") == expected
    assert pseudonym(key, None) is None
    assert pseudonym_column("id_number") == "person_key"
    assert pseudonym_column("legal_rep_id_number") == "legal_rep_person_key"
