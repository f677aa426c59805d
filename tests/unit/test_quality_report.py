"""Stored gate runs feed the quality report (failing first, history) and the `quality`/`publish`/`contracts` CLIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.contracts import contracts_app, publish_app, quality_app
from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import load_contract
from countyhub.contracts.publish import publish
from countyhub.contracts.quality_report import by_department, county_summary, report, to_html
from countyhub.contracts.runs import store_gate_run
from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.lakehouse.lake import Lake
from tests.unit.test_gate import GOOD_ROWS

RESIDENT = PROJECT_DIR / "contracts" / "dsj" / "resident_profile.odcs.yaml"
GRIDS = PROJECT_DIR / "contracts" / "cgj" / "urban_grids.odcs.yaml"


def _cli() -> typer.Typer:
    """The sub-apps as the lead registers them in countyhub/cli.py."""
    app = typer.Typer()
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(publish_app, name="publish")
    app.add_typer(quality_app, name="quality")
    return app


# Each test first runs the gate (Great Expectations) over several contract histories.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)  # tables as on a wide terminal, not cut at 80 columns


@pytest.fixture
def runs(settings: Settings) -> Lake:
    """resident_profile: a good run (published) then a failing one; urban_grids: one good run."""
    lake, resident, grids = Lake(settings), load_contract(RESIDENT), load_contract(GRIDS)
    with lake.writer() as con:
        con.execute(f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS {GOOD_ROWS}")
        con.execute("CREATE OR REPLACE TABLE lake.audit.urban_grids AS SELECT '511724001-01' AS grid_code, "
                    "'一网格' AS grid_name, '511724001' AS township_code, 1.0::DOUBLE AS area_km2")
    for contract in (resident, grids):
        gate = run_gate(lake, contract)
        store_gate_run(lake, contract, gate, publish(lake, contract, gate))
    with lake.writer() as con:
        con.execute("UPDATE lake.audit.resident_profile SET name = NULL WHERE household_id = 3")
    gate = run_gate(lake, resident)
    store_gate_run(lake, resident, gate, publish(lake, resident, gate))
    return lake


def test_report_puts_failing_first_with_history(runs: Lake) -> None:
    rows = report(runs)
    assert [(q.dataset, q.status, q.runs) for q in rows] == [("resident_profile", "failed", 2),
                                                             ("urban_grids", "passed", 1)]
    failing = rows[0]
    assert failing.failing_rules == ["name_required"] and failing.history[0] == 1.0 > failing.history[1]
    assert failing.published_version == 1 and Path(failing.data_docs).exists()
    assert [q.dataset for q in report(runs, department="cgj")] == ["urban_grids"]
    assert set(by_department(rows)) == {"dsj", "cgj"}
    assert county_summary(rows) | {"pass_rate": 0} == {"datasets": 2, "failed": 1, "warn": 0, "quarantined": 0,
                                                      "passed": 1, "pass_rate": 0}
    assert "<svg" in to_html(rows) and "name_required" in to_html(rows)


def test_stored_results_carry_masked_samples(runs: Lake) -> None:
    with runs.reader() as con:
        observed, threshold, samples = con.execute(
            "SELECT observed, threshold, samples_json FROM lake.meta.gate_results WHERE rule = 'name_required' "
            "AND NOT success").fetchone()
    rows = json.loads(samples)
    assert observed == "3" and threshold == "no nulls" and len(rows) == 3
    assert all(r["name"] is None and "*" in r["id_number"] for r in rows)


def test_quality_report_cli(runs: Lake, tmp_path: Path) -> None:
    out = CliRunner().invoke(_cli(), ["quality", "report", "--department", "dsj", "--html", str(tmp_path / "q.html")])
    assert out.exit_code == 0, out.output
    assert "resident_profile" in out.output and "failed" in out.output and "urban_grids" not in out.output
    page = (tmp_path / "q.html").read_text(encoding="utf-8")
    assert "resident_profile" in page and "name_required" in page and "urban_grids" not in page


def test_publish_rollback_cli(runs: Lake) -> None:
    out = CliRunner().invoke(_cli(), ["publish", "rollback", "resident_profile", "--to", "1"])
    assert out.exit_code == 0, out.output
    assert "now v2 = v1" in out.output
    assert CliRunner().invoke(_cli(), ["publish", "rollback", "resident_profile", "--to", "7"]).exit_code == 1


def test_contracts_check_cli_fails_on_a_breaking_change(runs: Lake, settings: Settings, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(_cli(), ["contracts", "check"]).exit_code == 0  # against what was published
    edited = tmp_path / "contracts"
    (edited / "dsj").mkdir(parents=True)
    data = yaml.safe_load(RESIDENT.read_text(encoding="utf-8"))
    data["schema"][0]["properties"] = [p for p in data["schema"][0]["properties"] if p["name"] != "phone"]
    (edited / "dsj" / RESIDENT.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("COUNTYHUB_CONTRACTS_DIR", str(edited))
    out = CliRunner().invoke(_cli(), ["contracts", "check"])
    assert out.exit_code == 1 and "phone: removed" in out.output
    data["version"] = "2.0.0"
    (edited / "dsj" / RESIDENT.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert CliRunner().invoke(_cli(), ["contracts", "check"]).exit_code == 0


def test_contracts_check_after_rollback_compares_with_the_restored_contract(
        runs: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def write(folder: Path, version: str) -> Path:
        data = yaml.safe_load(RESIDENT.read_text(encoding="utf-8"))
        data["version"] = version
        data["schema"][0]["properties"] = [p for p in data["schema"][0]["properties"] if p["name"] != "phone"]
        path = folder / "dsj" / RESIDENT.name
        path.parent.mkdir(parents=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    without_phone = load_contract(write(tmp_path / "v2", "2.0.0"))  # phone dropped with a major version
    with runs.writer() as con:
        con.execute(f"CREATE OR REPLACE TABLE lake.audit.resident_profile AS SELECT * EXCLUDE (phone) FROM ({GOOD_ROWS})")
    assert publish(runs, without_phone, run_gate(runs, without_phone)).version == 2
    write(tmp_path / "edit", "1.2.0")  # an edit made against v2's contract: no phone, minor version
    monkeypatch.setenv("COUNTYHUB_CONTRACTS_DIR", str(tmp_path / "edit"))
    assert CliRunner().invoke(_cli(), ["contracts", "check"]).exit_code == 0  # nothing breaks v2's contract
    assert CliRunner().invoke(_cli(), ["publish", "rollback", "resident_profile", "--to", "1"]).exit_code == 0
    out = CliRunner().invoke(_cli(), ["contracts", "check"])  # v1 (with phone) is served again
    assert out.exit_code == 1 and "phone: removed" in out.output and "1.1.0" in out.output
