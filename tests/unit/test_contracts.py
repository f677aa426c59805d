"""ODCS contracts: the shipped ones are valid, compile to the expected rules, and bad files name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from countyhub.contracts.odcs import ContractError, load_contract, load_contracts
from countyhub.core.settings import PROJECT_DIR

CONTRACTS = PROJECT_DIR / "contracts"
RESIDENT = CONTRACTS / "dsj" / "resident_profile.odcs.yaml"


def _variant(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(RESIDENT.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "dsj" / "resident_profile.odcs.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
# The people marts (issue 16): the master index, its conflicts, households, property and the eligibility marts.
PEOPLE = ("resident_master_index", "resident_conflicts", "household", "property_housing",
          "eligibility_primary_school_enrollment", "eligibility_talent_housing_subsidy",
          "eligibility_public_rental_housing")


def test_shipped_contracts_are_valid_odcs() -> None:
    paths = sorted(CONTRACTS.glob("*/*.odcs.yaml"))
    assert {p.name for p in paths} == {"resident_profile.odcs.yaml", "township_overview.odcs.yaml",
                                       "urban_grids.odcs.yaml", "urban_cases.odcs.yaml",
                                       "enterprise_registry.odcs.yaml", *(f"{n}.odcs.yaml" for n in PEOPLE),
                                       "grid_facility_inventory.odcs.yaml", "urban_case_sla.odcs.yaml",
                                       "department_inventory.odcs.yaml"}
    for path in paths:
        odcs = OpenDataContractStandard.from_file(str(path))
        assert odcs.kind == "DataContract" and odcs.apiVersion in ("v3.0.2", "v3.1.0")


def test_resident_profile_view() -> None:
    contract = load_contract(RESIDENT)
    assert (contract.dataset, contract.department, contract.owner) == ("resident_profile", "dsj", "数据资源科")
    assert contract.sharing_type == "conditional" and contract.sharing_conditions and contract.legal_basis
    assert contract.update_cycle == "daily" and contract.freshness == "1d"
    assert contract.classification == "sensitive"
    assert [c.name for c in contract.columns][:3] == ["id_number", "name", "gender"]
    id_number = contract.column("id_number")
    assert id_number.required and id_number.unique and id_number.primary_key
    assert id_number.classification == "sensitive" and id_number.physical_type == "VARCHAR"
    kinds = {(r.column, r.kind) for r in contract.rules}
    assert {("id_number", "unique"), ("id_number", "not_null"), ("id_number", "regex"), ("gender", "in_set"),
            ("age", "range"), ("age", "type"), (None, "row_count")} <= kinds
    warn = [r for r in contract.rules if r.severity == "warn"]
    assert {r.name for r in warn} == {"phone_is_mobile", "township_named"}
    domain = {(r.column, r.kind) for r in contract.rules}
    assert {("id_number", "resident_id"), ("birth_date", "not_future"), ("township_code", "division_code"),
            ("phone", "mobile"), (None, "volume")} <= domain


def test_cross_dataset_and_quarantine_rules() -> None:
    cases = load_contract(CONTRACTS / "cgj" / "urban_cases.odcs.yaml")
    assert cases.references == {"urban_grids"}
    fk = next(r for r in cases.rules if r.kind == "foreign_key")
    assert (fk.column, fk.params, fk.severity) == ("grid_code", {"dataset": "urban_grids", "column": "grid_code"},
                                                  "quarantine")
    assert next(r for r in cases.rules if r.name == "reported_not_future").severity == "quarantine"
    registry = load_contract(CONTRACTS / "scjgj" / "enterprise_registry.odcs.yaml")
    assert next(r for r in registry.rules if r.column == "uscc" and r.kind == "credit_code").severity == "error"


def test_quarantine_needs_a_row_level_rule(tmp_path: Path) -> None:
    def change(d: dict) -> None:
        d["schema"][0]["properties"][0]["quality"] = [{"name": "q", "metric": "duplicateValues", "mustBe": 0,
                                                       "severity": "quarantine"}]

    with pytest.raises(ContractError, match="quarantine needs a row-level rule"):
        load_contract(_variant(tmp_path, change))


@pytest.mark.slow  # installs datacontract-cli into its own venv on first use
def test_every_contract_passes_datacontract_lint() -> None:
    """Other tools read our contracts: datacontract-cli (own venv under .countyhub-tools/, installed if missing)."""
    from countyhub.contracts import datacontract_tool
    from countyhub.core.settings import load_settings

    for path in sorted(CONTRACTS.glob("*/*.odcs.yaml")):
        passed, output = datacontract_tool.lint(path, load_settings().tools_dir, install=True)
        assert passed, output


def test_township_overview_view() -> None:
    contract = load_contract(CONTRACTS / "dsj" / "township_overview.odcs.yaml")
    assert contract.sharing_type == "unconditional" and contract.classification == "internal"
    sql = next(r for r in contract.rules if r.kind == "sql" and r.name == "recipients_are_residents")
    assert sql.params["op"] == "=" and sql.params["value"] == 0 and sql.severity == "warn"
    residents = next(r for r in contract.rules if r.name == "no_mass_loss_of_residents")
    assert residents.kind == "sql" and residents.severity == "error"


def test_load_contracts_reads_every_department_folder() -> None:
    contracts = load_contracts(CONTRACTS)
    assert [c.path for c in contracts] == sorted(CONTRACTS.glob("*/*.odcs.yaml"))
    assert {c.department for c in contracts} >= {"cgj", "dsj", "scjgj", "zjj"}
    assert set(PEOPLE) <= {c.dataset for c in contracts}
    assert [c.dataset for c in contracts if c.dataset in ("urban_cases", "urban_grids", "enterprise_registry")] == [
        "urban_cases", "urban_grids", "enterprise_registry"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(apiVersion="v9.9.9"), "apiVersion"),
    (lambda d: d["schema"][0]["properties"][0].update(colour="red"), "schema[0].properties[0]"),
    (lambda d: d["schema"][0]["properties"][1].update(classification="top-secret"),
     "schema[0].properties[1].classification"),
    (lambda d: d["schema"][0]["properties"][2]["quality"][0].update(severity="fatal"),
     "schema[0].properties[2].quality[0].severity"),
    (lambda d: d["schema"][0]["properties"][2]["quality"][0].update(metric="missingValues", mustBe=5),
     "schema[0].properties[2].quality[0]"),
    (lambda d: d["customProperties"].pop(3), "customProperties"),  # sharingType
])
def test_bad_contract_names_file_and_field(tmp_path: Path, change, field: str) -> None:
    path = _variant(tmp_path, change)
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert str(path) in str(err.value) and f"field '{field}" in str(err.value)


def test_not_shared_needs_legal_basis(tmp_path: Path) -> None:
    def change(d: dict) -> None:
        d["customProperties"] = [p for p in d["customProperties"] if p["property"] != "legalBasis"]
        next(p for p in d["customProperties"] if p["property"] == "sharingType")["value"] = "not_shared"

    with pytest.raises(ContractError, match="legalBasis"):
        load_contract(_variant(tmp_path, change))


def test_custom_great_expectations_rule(tmp_path: Path) -> None:
    def change(d: dict) -> None:
        d["schema"][0]["properties"][4]["quality"] = [{
            "type": "custom", "engine": "great-expectations", "severity": "warning", "name": "age_mean",
            "implementation": {"type": "expect_column_mean_to_be_between", "kwargs": {"min_value": 1}}}]

    rule = next(r for r in load_contract(_variant(tmp_path, change)).rules if r.name == "age_mean")
    assert (rule.kind, rule.column, rule.severity) == ("custom", "age", "warn")
    assert rule.params == {"type": "expect_column_mean_to_be_between", "kwargs": {"min_value": 1}}
