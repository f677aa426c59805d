"""Domain, volume, referential and quarantine rules through the real gate and publish; samples masked; rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import Contract, load_contract
from countyhub.contracts.publish import (
    PublishError,
    current_publication,
    publications,
    publish,
    published_contract_yaml,
    quarantine_table,
    rollback,
)
from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.lakehouse.lake import Lake
from tests.unit.test_gate import GOOD_ROWS, IDS

# Each test runs the gate: Great Expectations over DuckDB, a second or more apiece (not in the fast tier).
pytestmark = pytest.mark.slow

CONTRACTS = PROJECT_DIR / "contracts"
CASES = """SELECT i::BIGINT AS case_id, CASE WHEN i = 7 THEN '511724999-01' ELSE '511724001-0' || (i % 2 + 1) END
    AS grid_code, '占道经营' AS category, 'open' AS status,
    CASE WHEN i = 9 THEN now()::TIMESTAMP + INTERVAL 3 DAY ELSE TIMESTAMP '2024-05-01 09:00:00' END AS reported_at,
    NULL::TIMESTAMP AS closed_at, 'load-' || (i % 3) AS load_id, 'reported' AS step, NULL::VARCHAR AS handling_department,
    NULL::TIMESTAMP AS dispatched_at, NULL::TIMESTAMP AS disposed_at, 24 AS deadline_hours,
    NULL::DOUBLE AS hours_to_dispatch, NULL::DOUBLE AS hours_to_dispose, NULL::DOUBLE AS hours_to_close,
    NULL::TIMESTAMP AS disposal_due_at, NULL::BOOLEAN AS sla_breached, TIMESTAMP '2024-05-02 00:00:00' AS loaded_at
    FROM range(50) r(i)"""


def _sql(lake: Lake, *statements: str) -> None:
    with lake.writer() as con:
        for sql in statements:
            con.execute(sql)


def _scalar(lake: Lake, sql: str):
    with lake.reader() as con:
        return con.execute(sql).fetchone()[0]


@pytest.fixture
def resident(settings: Settings) -> tuple[Lake, Contract]:
    lake = Lake(settings)
    _sql(lake, f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS {GOOD_ROWS}")
    return lake, load_contract(CONTRACTS / "dsj" / "resident_profile.odcs.yaml")


def test_domain_rules_catch_bad_values_and_samples_are_masked(resident: tuple[Lake, Contract]) -> None:
    lake, contract = resident
    bad_id = IDS[3][:-1] + ("0" if IDS[3][-1] != "0" else "1")  # a wrong check digit
    _sql(lake, f"UPDATE lake.audit.resident_profile SET id_number = '{bad_id}' WHERE id_number = '{IDS[3]}'",
         "UPDATE lake.audit.resident_profile SET township_code = '511724999' WHERE name = '张伟5'",
         "UPDATE lake.audit.resident_profile SET birth_date = current_date + 30 WHERE name = '张伟6'",
         "UPDATE lake.audit.resident_profile SET phone = '12345' WHERE name IN ('张伟7', '张伟8')")
    gate = run_gate(lake, contract)
    failed = {r.rule: r for r in gate.failures}
    assert set(failed) == {"id_number_valid", "township_code_exists", "birth_date_not_future"}
    assert all(failed[r].observed == 1 for r in failed)
    assert [w.rule for w in gate.warnings] == ["phone_is_mobile"] and gate.warnings[0].observed == 2
    sample = failed["id_number_valid"].samples
    assert len(sample) == 1 and sample[0]["id_number"] != bad_id
    assert sample[0]["id_number"][:3] == bad_id[:3] and "*" in sample[0]["id_number"]
    assert sample[0]["name"] != "张伟3" and sample[0]["gender"] in ("男", "女")  # sensitive masked, internal kept
    assert len(gate.warnings[0].samples) == 2 and all("*" in s["phone"] for s in gate.warnings[0].samples)
    page = Path(gate.data_docs).read_text(encoding="utf-8")
    assert "Great Expectations" in page and bad_id not in page and "12345" not in page


def test_volume_rule_blocks_a_big_drop(resident: tuple[Lake, Contract]) -> None:
    lake, contract = resident
    assert publish(lake, contract, run_gate(lake, contract)).rows == 200
    _sql(lake, f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS {GOOD_ROWS.replace('range(200)', 'range(150)')}")
    gate = run_gate(lake, contract)
    assert [r.rule for r in gate.failures] == ["no_mass_loss"] and gate.failures[0].observed == 150
    assert "row count >= 160" in gate.failures[0].threshold and publish(lake, contract, gate) is None


def test_warn_publishes_with_a_flag(resident: tuple[Lake, Contract]) -> None:
    lake, contract = resident
    _sql(lake, "UPDATE lake.audit.resident_profile SET phone = '12345' WHERE name = '张伟7'")
    gate = run_gate(lake, contract)
    assert gate.success and gate.status == "warn"
    assert publish(lake, contract, gate).warnings == 1


def test_referential_rule_quarantines_and_counts_add_up(settings: Settings) -> None:
    lake = Lake(settings)
    grids, cases = (load_contract(CONTRACTS / "cgj" / f"{n}.odcs.yaml") for n in ("urban_grids", "urban_cases"))
    _sql(lake, "CREATE OR REPLACE TABLE lake.audit.urban_grids AS SELECT '511724001-0' || i AS grid_code, "
               "'网格' || i AS grid_name, '511724001' AS township_code, 1.5::DOUBLE AS area_km2 FROM range(1, 3) r(i)",
         f"CREATE OR REPLACE TABLE lake.audit.urban_cases AS {CASES}")
    assert publish(lake, grids, run_gate(lake, grids)).rows == 2
    gate = run_gate(lake, cases)
    assert gate.success and gate.status == "quarantined"
    assert gate.quarantined == {"grid_code_references_urban_grids": 1, "reported_not_future": 1}
    pub = publish(lake, cases, gate)
    assert (pub.rows, pub.quarantined) == (48, 2)
    with lake.reader() as con:
        held = con.execute(f"SELECT case_id, _rule, _load_id, _gate_run_id FROM {quarantine_table('urban_cases')} "
                           "ORDER BY case_id").fetchall()
    assert held == [(7, "grid_code_references_urban_grids", "load-1", gate.run_id),
                    (9, "reported_not_future", "load-0", gate.run_id)]
    assert _scalar(lake, "SELECT count(*) FROM lake.shared.urban_cases WHERE case_id IN (7, 9)") == 0


def test_quarantine_refuses_a_table_changed_after_the_gate(settings: Settings) -> None:
    lake = Lake(settings)
    cases = load_contract(CONTRACTS / "cgj" / "urban_cases.odcs.yaml")
    _sql(lake, "CREATE OR REPLACE TABLE lake.shared.urban_grids AS SELECT '511724001-01' AS grid_code",
         f"CREATE OR REPLACE TABLE lake.audit.urban_cases AS {CASES}")
    gate = run_gate(lake, cases)
    _sql(lake, "UPDATE lake.audit.urban_cases SET grid_code = 'nowhere' WHERE case_id = 0")
    with pytest.raises(PublishError, match="quarantine counts"):
        publish(lake, cases, gate)
    assert current_publication(lake, "urban_cases") is None


def test_missing_reference_fails_closed(settings: Settings) -> None:
    lake = Lake(settings)
    cases = load_contract(CONTRACTS / "cgj" / "urban_cases.odcs.yaml")
    _sql(lake, f"CREATE OR REPLACE TABLE lake.audit.urban_cases AS {CASES}")
    gate = run_gate(lake, cases)  # shared.urban_grids was never published
    assert not gate.success and "check could not run (foreign_key)" in gate.reason


def test_rollback_serves_an_earlier_version_again(resident: tuple[Lake, Contract]) -> None:
    lake, contract = resident
    first = publish(lake, contract, run_gate(lake, contract))
    _sql(lake, f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS {GOOD_ROWS.replace('range(200)', 'range(170)')}")
    assert publish(lake, contract, run_gate(lake, contract)).rows == 170
    back = rollback(lake, "resident_profile", to_version=first.version)
    assert (back.version, back.rows, back.restored_version) == (3, 200, 1)
    assert _scalar(lake, "SELECT count(*) FROM lake.shared.resident_profile") == 200
    assert [p.version for p in publications(lake, "resident_profile")] == [3, 2, 1]
    with pytest.raises(PublishError, match="no published version 9"):
        rollback(lake, "resident_profile", to_version=9)


def test_rollback_restores_the_contract_text_it_was_published_under(resident: tuple[Lake, Contract],
                                                                     tmp_path: Path) -> None:
    lake, contract = resident
    publish(lake, contract, run_gate(lake, contract))
    edited_path = tmp_path / "dsj" / contract.path.name
    edited_path.parent.mkdir()
    edited_path.write_text(contract.path.read_text(encoding="utf-8").replace(
        f"version: {contract.version}", "version: 1.9.0", 1), encoding="utf-8")
    edited = load_contract(edited_path)
    assert edited.version == "1.9.0"
    publish(lake, edited, run_gate(lake, edited))
    assert published_contract_yaml(lake, "resident_profile") == edited_path.read_text(encoding="utf-8")
    back = rollback(lake, "resident_profile", to_version=1)
    assert back.contract_version == contract.version
    assert published_contract_yaml(lake, "resident_profile") == contract.path.read_text(encoding="utf-8")
    rollback(lake, "resident_profile", to_version=back.version)  # a rollback to a rollback: still v1's text
    assert published_contract_yaml(lake, "resident_profile") == contract.path.read_text(encoding="utf-8")


def test_rollback_to_a_version_without_stored_text_never_reports_a_later_contract(
        resident: tuple[Lake, Contract]) -> None:
    lake, contract = resident
    publish(lake, contract, run_gate(lake, contract))
    publish(lake, contract, run_gate(lake, contract))
    _sql(lake, "UPDATE lake.meta.publications SET contract_yaml = NULL WHERE version = 1")  # as before texts
    rollback(lake, "resident_profile", to_version=1)
    assert published_contract_yaml(lake, "resident_profile") is None
