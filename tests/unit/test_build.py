"""dbt builds raw -> staging -> marts in the lake; contracts gate the marts; only passing builds are published."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal

import pytest
import yaml

from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import load_contracts
from countyhub.contracts.publish import current_publication, publish, publish_order
from countyhub.core.departments import load_departments
from countyhub.core.settings import PROJECT_DIR, Settings
from countyhub.flow.build import (
    DbtBuildError,
    mart_yaml,
    mart_yaml_path,
    run_dbt,
    sources_yaml,
    write_profiles,
    write_sources,
)
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw

DBT = PROJECT_DIR / "dbt_project"
DEPARTMENTS = load_departments(PROJECT_DIR / "departments")


def test_every_stream_has_a_typed_staging_model_with_its_yml() -> None:
    streams = [(d.code, s.name) for d in DEPARTMENTS for src in d.sources for s in src.streams]
    assert len(streams) >= 7
    for dept, stream in streams:
        model = DBT / "models" / "staging" / dept / f"stg_{dept}__{stream}"
        assert model.with_suffix(".sql").exists() and model.with_suffix(".yml").exists(), model
        doc = yaml.safe_load(model.with_suffix(".yml").read_text(encoding="utf-8"))
        assert doc["models"][0]["name"] == model.name
        assert f"source('raw_{dept}', '{stream}')" in model.with_suffix(".sql").read_text(encoding="utf-8")


def test_sources_are_generated_from_department_files(settings: Settings) -> None:
    paths = write_sources(settings, DEPARTMENTS)
    assert {p.parent.name for p in paths} == {d.code for d in DEPARTMENTS if d.sources}
    gaj = yaml.safe_load((DBT / "models" / "staging" / "gaj" / "_sources.yml").read_text(encoding="utf-8"))
    source = gaj["sources"][0]
    assert (source["name"], source["schema"], source["database"]) == ("raw_gaj", "raw_gaj", "lake")
    assert [t["name"] for t in source["tables"]] == ["persons", "households"]
    assert source["tables"][0]["meta"]["primary_key"] == ["person_id"]
    assert sources_yaml(DEPARTMENTS[0]).startswith("# GENERATED")


def test_mart_model_contracts_are_derived_from_odcs(settings: Settings) -> None:
    """The checked-in mart .yml is exactly what the ODCS contract generates: nothing written twice."""
    for contract in load_contracts(PROJECT_DIR / "contracts"):
        path = mart_yaml_path(settings, contract)
        assert path.read_text(encoding="utf-8") == mart_yaml(contract), f"regenerate {path}"
        model = yaml.safe_load(path.read_text(encoding="utf-8"))["models"][0]
        assert model["config"]["contract"] == {"enforced": True} and model["config"]["schema"] == "audit"
        assert [(c["name"], c["data_type"]) for c in model["columns"]] == [
            (c.name, c.physical_type.lower()) for c in contract.columns]
        assert path.with_suffix(".sql").exists()


def test_profiles_live_under_home_not_in_the_repo(settings: Settings) -> None:
    path = write_profiles(settings)
    assert path.is_relative_to(settings.home) and not path.is_relative_to(PROJECT_DIR / "dbt_project")
    output = yaml.safe_load(path.read_text(encoding="utf-8"))["countyhub"]["outputs"]["lake"]
    assert output["config_options"]["extension_directory"] == str(settings.extension_dir)
    assert output["attach"][0] == {"path": f"ducklake:{settings.lake_metadata}", "alias": "lake",
                                   "options": {"data_path": settings.lake_data}}
    assert (output["database"], output["schema"], output["threads"]) == ("lake", "audit", 1)


def test_township_seed_matches_the_demo_divisions() -> None:
    divisions = pytest.importorskip("countyhub.demo.divisions")
    with (DBT / "seeds" / "townships.csv").open(encoding="utf-8") as fh:
        seed = {row["township_code"]: row["township_name"] for row in csv.DictReader(fh)}
    assert seed == {t.code: t.name for t in divisions.TOWNSHIPS}


def _scalar(lake: Lake, sql: str):
    with lake.reader() as con:
        return con.execute(sql).fetchone()[0]


def test_build_gate_publish(settings: Settings) -> None:
    lake = Lake(settings)
    tables = raw_tables(persons=120)
    write_raw(lake, tables)
    result = run_dbt(settings)
    assert result.success and not result.failed
    assert result.node("resident_profile").rows == 120 and result.node("resident_profile").seconds > 0
    assert result.node("township_overview").relation == "lake.audit.township_overview"
    assert result.node("stg_mzj__subsidy_roll").relation == "lake.staging.stg_mzj__subsidy_roll"
    assert result.node("int_townships_unioned").relation == "lake.intermediate.int_townships_unioned"
    assert {n.status for n in result.nodes} <= {"success", "pass"}

    roll, enterprises = tables["mzj.subsidy_roll"], tables["scjgj.enterprises"]
    assert _scalar(lake, "SELECT count(*) FROM lake.audit.resident_profile WHERE receives_subsidy") == len(roll)
    assert _scalar(lake, "SELECT sum(enterprises_as_legal_rep) FROM lake.audit.resident_profile") == len(enterprises)
    amounts = sum(Decimal(r["月发放金额"]) for r in roll)
    assert _scalar(lake, "SELECT sum(monthly_subsidy_total) FROM lake.audit.township_overview") == amounts
    assert _scalar(lake, "SELECT sum(residents) FROM lake.audit.township_overview") == 120
    open_cases = sum(c["status"] == "open" for c in tables["cgj.cases"])
    assert _scalar(lake, "SELECT sum(open_cases) FROM lake.audit.township_overview") == open_cases
    assert _scalar(lake, "SELECT township_name FROM lake.audit.township_overview "
                         "WHERE township_code = '511724200'") == "川主乡"

    contracts = {c.dataset: c for c in load_contracts(settings.contracts_dir)}
    for contract in publish_order(list(contracts.values())):  # urban_grids before urban_cases
        gate = run_gate(lake, contract)
        assert gate.success, gate.reason
        assert publish(lake, contract, gate).version == 1

    # A new load plants a second person with an existing id_number and a person without a name.
    people = tables["gaj.persons"]
    people.append({**people[5], "person_id": 1001, "name": "冒名"})
    people.append({**people[6], "person_id": 1002, "id_number": "511724199001010011", "name": None})
    write_raw(lake, {"gaj.persons": people}, load_id="fixture-load-2", loaded_at=datetime(2024, 6, 2))
    run_dbt(settings)
    gate = run_gate(lake, contracts["resident_profile"])
    assert not gate.success
    assert "id_number: 2 rows with duplicate values (unique" in gate.reason
    assert "name: 1 null values (not_null" in gate.reason
    assert publish(lake, contracts["resident_profile"], gate) is None
    assert _scalar(lake, "SELECT count(*) FROM lake.shared.resident_profile") == 120
    assert current_publication(lake, "resident_profile").version == 1

    # The department fixes its data: the next load passes and becomes version 2.
    write_raw(lake, {"gaj.persons": people[:-2]}, load_id="fixture-load-3", loaded_at=datetime(2024, 6, 3))
    run_dbt(settings, select="+resident_profile")
    gate = run_gate(lake, contracts["resident_profile"])
    assert gate.success, gate.reason
    assert publish(lake, contracts["resident_profile"], gate).version == 2


def test_failed_build_names_the_model(settings: Settings) -> None:
    lake = Lake(settings)
    write_raw(lake, {k: v for k, v in raw_tables(persons=30).items() if k != "cgj.cases"})
    with pytest.raises(DbtBuildError, match=r"model\.countyhub\.stg_cgj__cases: error: .*cases") as err:
        run_dbt(settings, select="stg_cgj__cases stg_cgj__grids")
    assert err.value.result is not None
    assert err.value.result.node("stg_cgj__grids").status == "success"


def test_a_registry_that_lost_most_people_is_not_published(settings: Settings) -> None:
    """A snapshot or full refresh that returns a few persons must not shrink either dataset built from them."""
    lake = Lake(settings)
    tables = raw_tables(persons=120)
    write_raw(lake, tables)
    run_dbt(settings)
    contracts = {c.dataset: c for c in load_contracts(settings.contracts_dir)}
    for contract in publish_order(list(contracts.values())):
        assert publish(lake, contract, run_gate(lake, contract)) is not None

    write_raw(lake, {"gaj.persons": tables["gaj.persons"][:6]}, load_id="fixture-load-2", loaded_at=datetime(2024, 6, 2))
    run_dbt(settings, select="+resident_profile +township_overview")
    assert _scalar(lake, "SELECT sum(residents) FROM lake.audit.township_overview") == 6
    failed = {}
    for name in ("resident_profile", "township_overview"):
        gate = run_gate(lake, contracts[name])
        failed[name] = [r.rule for r in gate.failures]
        assert publish(lake, contracts[name], gate) is None
    # resident_profile loses rows; township_overview keeps its rows (the townships) and loses residents
    assert failed == {"resident_profile": ["no_mass_loss"], "township_overview": ["no_mass_loss_of_residents"]}
    assert _scalar(lake, "SELECT count(*) FROM lake.shared.resident_profile") == 120
    assert _scalar(lake, "SELECT sum(residents) FROM lake.shared.township_overview") == 120
