"""Column-level lineage from a dbt manifest with sqlglot, impact analysis, and the lineage picture on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from countyhub.catalog import Catalog, Column
from countyhub.catalog.lineage import column_edges_from_manifest, publish_edges
from tests.fixtures.sharing_web import governed_app, token_client
from tests.unit.test_catalog import entry

STG_SQL = """select try_cast(person_id as bigint) as person_id, upper(trim(id_number)) as id_number, name,
    township_code, cast(_load_id as varchar) as load_id from "lake"."raw_gaj"."persons\""""
# Written to target/compiled only (no compiled_code in the manifest), like a `dbt compile` whose manifest is older.
INT_SQL = """select * from "lake"."staging"."stg_gaj__persons"
where load_id = (select max(load_id) from "lake"."staging"."stg_gaj__persons")"""
MART_SQL = """with persons as (select * from "lake"."intermediate"."int_persons_latest")
select persons.id_number::varchar as id_number, upper(persons.name) as name, t.township_name as township_name
from persons left join "lake"."staging"."townships" as t on t.township_code = persons.township_code"""


def _node(name: str, schema: str, deps: list[str], sql: str | None = None, kind: str = "model") -> dict:
    node = {"resource_type": kind, "name": name, "alias": name, "schema": schema, "database": "lake",
            "package_name": "countyhub", "original_file_path": f"models/{name}.sql", "columns": {},
            "depends_on": {"nodes": deps}}
    return node | ({"compiled_code": sql} if sql else {})


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    target = tmp_path / "target"
    (target / "compiled" / "countyhub" / "models").mkdir(parents=True)
    (target / "compiled" / "countyhub" / "models" / "int_persons_latest.sql").write_text(INT_SQL)
    src = {"resource_type": "source", "name": "persons", "identifier": "persons", "schema": "raw_gaj",
           "database": "lake", "columns": {c: {} for c in ("person_id", "id_number", "name", "township_code",
                                                          "_load_id")}}
    doc = {"sources": {"source.countyhub.raw_gaj.persons": src}, "nodes": {
        "model.countyhub.stg_gaj__persons": _node("stg_gaj__persons", "staging", ["source.countyhub.raw_gaj.persons"],
                                                  STG_SQL),
        "model.countyhub.int_persons_latest": _node("int_persons_latest", "intermediate",
                                                    ["model.countyhub.stg_gaj__persons"]),
        "model.countyhub.resident_profile": _node("resident_profile", "audit", [
            "model.countyhub.int_persons_latest", "seed.countyhub.townships"], MART_SQL),
        "seed.countyhub.townships": _node("townships", "staging", [], kind="seed"),
        "model.countyhub.broken": _node("broken", "audit", [], "selec id frm nowhere where"),
        "test.countyhub.not_null": {"resource_type": "test", "name": "t", "schema": "audit", "depends_on": {}},
    }}
    path = target / "manifest.json"
    path.write_text(json.dumps(doc))
    return path


def _edges(manifest: Path) -> set[tuple[str, str, str, str, str]]:
    found = column_edges_from_manifest(manifest, {"staging.townships": ["township_code", "township_name"]},
                                       compiled_dir=manifest.parent / "compiled")
    return {(e.dataset, e.column, e.upstream_dataset, e.upstream_column, e.transform) for e in found}


def test_column_edges_through_casts_stars_ctes_and_joins(manifest: Path) -> None:
    edges = _edges(manifest)
    assert ("staging.stg_gaj__persons", "id_number", "raw_gaj.persons", "id_number", "derived") in edges
    assert ("staging.stg_gaj__persons", "name", "raw_gaj.persons", "name", "identity") in edges
    assert ("staging.stg_gaj__persons", "load_id", "raw_gaj.persons", "_load_id", "derived") in edges
    # select * expanded with the staging model's own outputs, learned earlier in dependency order
    assert ("intermediate.int_persons_latest", "id_number", "staging.stg_gaj__persons", "id_number",
            "identity") in edges
    assert ("audit.resident_profile", "name", "intermediate.int_persons_latest", "name", "derived") in edges
    assert ("audit.resident_profile", "township_name", "staging.townships", "township_name", "identity") in edges
    # the join key and the filter change which rows exist: recorded as row ("*") dependencies
    assert ("audit.resident_profile", "*", "intermediate.int_persons_latest", "township_code", "filter") in edges
    assert ("intermediate.int_persons_latest", "*", "staging.stg_gaj__persons", "load_id", "filter") in edges
    assert not any(e[0] == "audit.broken" for e in edges)  # unparsable SQL is skipped, not fatal
    assert not any(e[1] == "township_code" and e[0] == "audit.resident_profile" for e in edges)


@pytest.fixture
def catalog(tmp_path: Path, manifest: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'lineage.sqlite'}")
    cols = [Column("id_number", "VARCHAR", "", "sensitive"), Column("name", "VARCHAR", "", "sensitive"),
            Column("township_code", "VARCHAR"), Column("person_id", "BIGINT")]
    chain = [("raw_gaj.persons", "raw_stream", []), ("staging.stg_gaj__persons", "model", ["raw_gaj.persons"]),
             ("intermediate.int_persons_latest", "model", ["staging.stg_gaj__persons"]),
             ("audit.resident_profile", "model", ["intermediate.int_persons_latest"]),
             ("shared.resident_profile", "published", ["audit.resident_profile"]),
             ("shared.township_overview", "published", ["shared.resident_profile"])]
    for name, kind, ups in chain:
        cat.register_dataset(entry(name, kind, name, name, "gaj", "公安局", columns=cols, upstream=ups,
                                   origin="户籍管理系统 (sql) / persons" if kind == "raw_stream" else ""))
    edges = column_edges_from_manifest(manifest, compiled_dir=manifest.parent / "compiled")
    edges += publish_edges("shared.resident_profile", "audit.resident_profile", ["id_number", "name"])
    cat.set_column_lineage(edges)
    return cat


def test_impact_of_a_source_column(catalog: Catalog) -> None:
    got = catalog.impact("raw_gaj.persons", "id_number")
    cols = {(c["dataset"], c["column"]) for c in got["columns"]}
    assert {("staging.stg_gaj__persons", "id_number"), ("intermediate.int_persons_latest", "id_number"),
            ("audit.resident_profile", "id_number"), ("shared.resident_profile", "id_number")} <= cols
    assert ("audit.resident_profile", "name") not in cols
    assert got["table_level_only"] == ["shared.township_overview"]  # no column lineage: possibly affected
    depth = {(c["dataset"], c["column"]): c["depth"] for c in got["columns"]}
    assert depth[("staging.stg_gaj__persons", "id_number")] == 1


def test_impact_of_a_join_key_reaches_every_column_downstream(catalog: Catalog) -> None:
    cols = {(c["dataset"], c["column"]) for c in catalog.impact("raw_gaj.persons", "township_code")["columns"]}
    assert ("audit.resident_profile", "*") in cols
    assert {("shared.resident_profile", "name"), ("shared.resident_profile", "id_number")} <= cols
    assert not catalog.impact("shared.township_overview", "id_number")["columns"]


def test_lineage_replaced_per_dataset(catalog: Catalog) -> None:
    before = catalog.column_lineage("audit.resident_profile")
    assert before["upstream"] and before["downstream"]
    catalog.set_column_lineage([], datasets={"audit.resident_profile"})
    after = catalog.column_lineage("audit.resident_profile")
    assert after["upstream"] == [] and after["downstream"] == before["downstream"]


def test_lineage_api_and_page(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog)
    analyst = token_client(app, tokens["analyst"])
    assert analyst.get("/api/datasets/raw_gaj.persons/impact", params={"column": "id_number"}).status_code == 403
    assert analyst.get("/api/datasets/audit.resident_profile/lineage").status_code == 403
    client = token_client(app, tokens["engineer"])  # raw and audit zones: engineers and admins
    impact = client.get("/api/datasets/raw_gaj.persons/impact", params={"column": "id_number"}).json()
    assert "shared.resident_profile" in impact["datasets"]
    assert client.get("/api/datasets/raw_gaj.persons/impact", params={"column": "nope"}).status_code == 404
    graph = client.get("/api/datasets/audit.resident_profile/lineage").json()
    assert graph["graph"]["audit.resident_profile"] == ["intermediate.int_persons_latest"]
    assert "shared.township_overview" in graph["graph"]
    page = client.get("/datasets/raw_gaj.persons", params={"impact": "id_number"})
    assert page.status_code == 200
    for text in ['id="lineage-picture"', 'data-node="source:户籍管理系统 (sql) / persons"',
                 'id="impact-result"', "shared.resident_profile</a>.id_number", "shared.township_overview"]:
        assert text in page.text, text
    mart = client.get("/datasets/audit.resident_profile").text
    assert 'id="column-lineage"' in mart and "intermediate.int_persons_latest.township_code" in mart
