"""dbt builds raw -> staging -> marts in the lake; contracts gate the marts; only passing builds are published."""

from __future__ import annotations

import csv
import json
import multiprocessing
import shutil
import stat
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import load_contracts
from countyhub.contracts.publish import current_publication, publish, publish_order
from countyhub.core.departments import load_departments
from countyhub.core.settings import PROJECT_DIR, Settings, load_settings
from countyhub.flow.build import DbtBuildError, run_dbt, write_profiles
from countyhub.flow.dbt_prep import DbtProject, dbt_profile, prepare_dbt
from countyhub.flow.dbt_seeds import seed_files
from countyhub.flow.dbt_yaml import mart_path, mart_yaml, sources_yaml
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw

DBT = PROJECT_DIR / "dbt_project"
DEPARTMENTS = load_departments(PROJECT_DIR / "departments")
CONTRACTS = load_contracts(PROJECT_DIR / "contracts")


def test_every_stream_has_a_typed_staging_model_with_its_yml() -> None:
    streams = [(d.code, s.name) for d in DEPARTMENTS for src in d.sources for s in src.streams]
    assert len(streams) >= 7
    for dept, stream in streams:
        model = DBT / "models" / "staging" / dept / f"stg_{dept}__{stream}"
        assert model.with_suffix(".sql").exists() and model.with_suffix(".yml").exists(), model
        doc = yaml.safe_load(model.with_suffix(".yml").read_text(encoding="utf-8"))
        assert doc["models"][0]["name"] == model.name
        assert f"source('raw_{dept}', '{stream}')" in model.with_suffix(".sql").read_text(encoding="utf-8")


def _fresh_checkout(target: Path) -> Path:
    """The repository's dbt project as git would check it out: no dbt output, no generated sources."""
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "profiles.yml", "_sources.yml")
    return Path(shutil.copytree(DBT, target, ignore=ignore))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _prepare(settings: Settings, source: Path, departments=DEPARTMENTS) -> DbtProject:
    return prepare_dbt(source, settings.home / "dbt", dbt_profile(Lake(settings)), departments, CONTRACTS)


def test_sources_are_generated_under_home_from_department_files(settings: Settings, tmp_path: Path) -> None:
    source = _fresh_checkout(tmp_path / "checkout")
    before = _files(source)
    project = _prepare(settings, source)
    assert _files(source) == before, "preparing must only read the repository's project"
    assert project.project_dir.is_relative_to(settings.home)
    sources = {p.parent.name for p in (project.project_dir / "models" / "staging").glob("*/_sources.yml")}
    assert sources == {d.code for d in DEPARTMENTS if d.sources}
    gaj = yaml.safe_load((project.project_dir / "models/staging/gaj/_sources.yml").read_text(encoding="utf-8"))
    source_doc = gaj["sources"][0]
    assert (source_doc["name"], source_doc["schema"], source_doc["database"]) == ("raw_gaj", "raw_gaj", "lake")
    assert [t["name"] for t in source_doc["tables"]] == ["persons", "households", "residence_permits",
                                                         "person_cancellations"]
    assert source_doc["tables"][0]["meta"]["primary_key"] == ["person_id"]
    assert sources_yaml(DEPARTMENTS[0]).startswith("# GENERATED")
    # Everything else is the repository's project, byte for byte (plus the seeds generated from the same files).
    copied = _files(project.project_dir)
    generated = {str(p) for p in seed_files(DEPARTMENTS, CONTRACTS)}
    assert generated <= set(copied) and not generated & set(before)
    assert {k: v for k, v in copied.items() if not k.endswith("_sources.yml") and k not in generated} == before


@pytest.mark.dbt
def test_a_fresh_checkout_parses_once_prepared(settings: Settings, tmp_path: Path) -> None:
    project = _prepare(settings, _fresh_checkout(tmp_path / "checkout"))
    proc = subprocess.run([sys.executable, "-c", "import sys; from dbt.cli.main import cli; sys.exit(cli())",
                           "parse", *project.args(), "--quiet"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((project.target_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "source.countyhub.raw_gaj.persons" in manifest["sources"]
    assert manifest["nodes"]["model.countyhub.resident_profile"]["config"]["contract"]["enforced"] is True


def test_preparing_again_rewrites_nothing_and_follows_the_departments(settings: Settings, tmp_path: Path) -> None:
    source = _fresh_checkout(tmp_path / "checkout")
    # A checkout an older build wrote into keeps its generated sources: they must not be copied (nor duplicated).
    (source / "models/staging/gaj/_sources.yml").write_text("# GENERATED by countyhub.flow.build from x\n")
    project = _prepare(settings, source)
    stamps = {p: p.stat().st_mtime_ns for p in project.project_dir.rglob("*") if p.is_file()}
    assert _prepare(settings, source) == project
    assert {p: p.stat().st_mtime_ns for p in project.project_dir.rglob("*") if p.is_file()} == stamps
    assert "countyhub.flow.dbt_yaml" in (project.project_dir / "models/staging/gaj/_sources.yml").read_text()

    # A county without cgj, and a stray file in the copy: both disappear from the prepared project.
    (project.project_dir / "models" / "stray.sql").write_text("select 1")
    _prepare(settings, source, [d for d in DEPARTMENTS if d.code != "cgj"])
    assert not (project.project_dir / "models/staging/cgj/_sources.yml").exists()
    assert not (project.project_dir / "models/stray.sql").exists()
    assert (project.project_dir / "models/staging/cgj/stg_cgj__cases.sql").exists()  # the models are the repo's


def _prepare_in_child(args: tuple[Settings, Path]) -> str:
    settings, source = args
    return str(_prepare(settings, source).project_dir)


@pytest.mark.slow  # spawns four interpreters
def test_concurrent_preparers_of_one_home_do_not_interfere(settings: Settings, tmp_path: Path) -> None:
    """Several Airflow workers starting a build at once: each gets the complete project. (Spawned, not forked: a
    forked child of a test process that runs background threads, such as the audit writer, can inherit a held lock.)"""
    source = _fresh_checkout(tmp_path / "checkout")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        dirs = pool.map(_prepare_in_child, [(settings, source)] * 8)
    project = Path(dirs[0])
    assert set(dirs) == {str(project)}
    assert not [p for p in project.rglob("*.tmp")]
    assert len(list(project.glob("models/staging/*/_sources.yml"))) == sum(1 for d in DEPARTMENTS if d.sources)


def test_mart_model_contracts_are_derived_from_odcs() -> None:
    """The checked-in mart .yml is exactly what the ODCS contract generates: nothing written twice.

    Regenerate after editing a contract: countyhub.flow.dbt_yaml.write_mart_contracts(dbt_project, contracts).
    """
    for contract in CONTRACTS:
        path = DBT / mart_path(contract)
        assert path.read_text(encoding="utf-8") == mart_yaml(contract), f"regenerate {path}"
        model = yaml.safe_load(path.read_text(encoding="utf-8"))["models"][0]
        assert model["config"]["contract"] == {"enforced": True} and model["config"]["schema"] == "audit"
        assert [(c["name"], c["data_type"]) for c in model["columns"]] == [
            (c.name, c.physical_type.lower()) for c in contract.columns]
        assert path.with_suffix(".sql").exists()


def test_profiles_live_under_home_not_in_the_repo(settings: Settings) -> None:
    path = write_profiles(Lake(settings))
    assert path.is_relative_to(settings.home) and not path.is_relative_to(PROJECT_DIR / "dbt_project")
    output = yaml.safe_load(path.read_text(encoding="utf-8"))["countyhub"]["outputs"]["lake"]
    assert output["config_options"]["extension_directory"] == str(settings.extension_dir)
    assert output["attach"][0] == {"path": f"ducklake:{settings.lake_metadata}", "alias": "lake",
                                   "options": {"data_path": settings.lake_data}}
    assert (output["database"], output["schema"], output["threads"]) == ("lake", "audit", 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the metadata URL of a PostgreSQL catalog may hold a password


def test_a_lake_on_an_object_store_gives_dbt_its_secret_but_not_its_keys(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-in-a-file")
    settings = load_settings(environ={"COUNTYHUB_HOME": str(tmp_path / "home"), "COUNTYHUB_LAKE_DATA": "s3://lake/",
                                      "AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "cn-north-1"})
    text = write_profiles(Lake(settings)).read_text(encoding="utf-8")
    assert "never-in-a-file" not in text
    [secret] = yaml.safe_load(text)["countyhub"]["outputs"]["lake"]["secrets"]
    assert secret == {"type": "s3", "name": "lake_s3", "key_id": "{{ env_var('AWS_ACCESS_KEY_ID', '') }}",
                      "secret": "{{ env_var('AWS_SECRET_ACCESS_KEY', '') }}", "region": "cn-north-1",
                      "endpoint": "127.0.0.1:9000", "use_ssl": "false", "url_style": "path"}


def test_township_seed_matches_the_demo_divisions() -> None:
    divisions = pytest.importorskip("countyhub.demo.divisions")
    with (DBT / "seeds" / "townships.csv").open(encoding="utf-8") as fh:
        seed = {row["township_code"]: row["township_name"] for row in csv.DictReader(fh)}
    assert seed == {t.code: t.name for t in divisions.TOWNSHIPS}


def _scalar(lake: Lake, sql: str):
    with lake.reader() as con:
        return con.execute(sql).fetchone()[0]


@pytest.mark.dbt
def test_build_gate_publish(settings: Settings) -> None:
    lake = Lake(settings)
    tables = raw_tables(persons=120)
    write_raw(lake, tables)
    result = run_dbt(Lake(settings))
    assert result.success and not result.failed
    assert result.node("resident_profile").rows == 120 and result.node("resident_profile").seconds > 0
    assert result.node("township_overview").relation == "lake.audit.township_overview"
    assert result.node("stg_mzj__subsidy_roll").relation == "lake.staging.stg_mzj__subsidy_roll"
    assert result.node("int_townships_unioned").relation == "lake.intermediate.int_townships_unioned"
    # dbt reports exposures (the services that consume the eligibility marts) as "no-op": nothing to build.
    assert {n.status for n in result.nodes if n.resource_type != "exposure"} <= {"success", "pass"}
    assert {n.status for n in result.nodes if n.resource_type == "exposure"} == {"no-op"}

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
    run_dbt(Lake(settings))
    gate = run_gate(lake, contracts["resident_profile"])
    assert not gate.success
    assert "id_number: 2 rows with duplicate values (unique" in gate.reason
    assert "name: 1 null values (not_null" in gate.reason
    assert publish(lake, contracts["resident_profile"], gate) is None
    assert _scalar(lake, "SELECT count(*) FROM lake.shared.resident_profile") == 120
    assert current_publication(lake, "resident_profile").version == 1

    # The department fixes its data: the next load passes and becomes version 2.
    write_raw(lake, {"gaj.persons": people[:-2]}, load_id="fixture-load-3", loaded_at=datetime(2024, 6, 3))
    run_dbt(Lake(settings), select="+resident_profile")
    gate = run_gate(lake, contracts["resident_profile"])
    assert gate.success, gate.reason
    assert publish(lake, contracts["resident_profile"], gate).version == 2


@pytest.mark.dbt
def test_failed_build_names_the_model(settings: Settings) -> None:
    lake = Lake(settings)
    write_raw(lake, {k: v for k, v in raw_tables(persons=30).items() if k != "cgj.cases"})
    with pytest.raises(DbtBuildError, match=r"model\.countyhub\.stg_cgj__cases: error: .*cases") as err:
        run_dbt(Lake(settings), select="stg_cgj__cases stg_cgj__grids")
    assert err.value.result is not None
    assert err.value.result.node("stg_cgj__grids").status == "success"


@pytest.mark.dbt
def test_a_registry_that_lost_most_people_is_not_published(settings: Settings) -> None:
    """A snapshot or full refresh that returns a few persons must not shrink either dataset built from them."""
    lake = Lake(settings)
    tables = raw_tables(persons=120)
    write_raw(lake, tables)
    run_dbt(Lake(settings))
    contracts = {c.dataset: c for c in load_contracts(settings.contracts_dir)}
    for contract in publish_order(list(contracts.values())):
        assert publish(lake, contract, run_gate(lake, contract)) is not None

    write_raw(lake, {"gaj.persons": tables["gaj.persons"][:6]}, load_id="fixture-load-2", loaded_at=datetime(2024, 6, 2))
    run_dbt(Lake(settings), select="+resident_profile +township_overview")
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
