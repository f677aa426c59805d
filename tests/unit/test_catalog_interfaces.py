"""The catalog's other faces: CKAN Action API driven by ckanapi itself, DCAT-AP parsed by rdflib, OpenAPI, usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import ckanapi
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF

from countyhub.catalog import Catalog
from tests.fixtures.servers import uvicorn_thread
from tests.fixtures.sharing_web import governed_app, token_client
from tests.unit.test_catalog import RAW_ID, RAW_PHONE, county_entries

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for e in county_entries():
        if e.name == "raw_gaj.persons":
            e.themes, e.steward, e.contact = ["人口"], "户政大队", "data@gaj.example.gov.cn"
        cat.register_dataset(e)
    cat.record_gate_run("shared.resident_profile", "r1", False, "dup", [], T0, T0)
    return cat


@pytest.fixture
def served(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    """The catalog on a real uvicorn, and API tokens (admin of dsj, engineer of gaj, analyst of mzj)."""
    app, tokens = governed_app(monkeypatch, catalog)
    with uvicorn_thread(app) as url:
        yield url, tokens


@pytest.mark.parametrize("get_only", [False, True])
def test_ckanapi_client_against_the_catalog(served: tuple[str, dict[str, str]], get_only: bool) -> None:
    server, tokens = served
    with ckanapi.RemoteCKAN(server, get_only=get_only) as anonymous, pytest.raises(ckanapi.CKANAPIError):
        anonymous.action.package_list()  # no API key: 401
    # ckanapi sends the key as CKAN does (`Authorization: <key>`); the admin sees every entry.
    with ckanapi.RemoteCKAN(server, apikey=tokens["admin"], get_only=get_only) as ckan:
        assert ckan.action.status_show()["ckan_version"].startswith("2.")
        found = ckan.action.package_search(q="户籍", fq="organization:gaj", rows=5,
                                           **{"facet.field": json.dumps(["organization", "tags", "groups"])})
        assert found["count"] == 3 and {p["name"] for p in found["results"]} >= {"raw_gaj-persons"}
        assert found["facets"]["organization"] == {"gaj": 3}
        assert found["facets"]["groups"] == {"人口": 1}
        assert found["search_facets"]["tags"]["items"]
        paged = ckan.action.package_search(q="*:*", rows=4, start=4)
        assert paged["count"] == 8 and len(paged["results"]) == 4  # package_search leaves the audit zone out
        pkg = ckan.action.package_show(id="shared-resident_profile")
        assert pkg["organization"]["name"] == "dsj" and pkg["id"] == "shared.resident_profile"
        extras = {x["key"]: x["value"] for x in pkg["extras"]}
        assert extras["gate_status"] == "failed" and extras["sharing_type"] == "conditional"
        assert [r["format"] for r in pkg["resources"]] == ["SQL", "JSON"]
        assert ckan.action.package_show(id="raw_gaj.persons")["maintainer"] == "户政大队"
        assert len(ckan.action.package_list()) == 9
        assert ckan.action.package_list(limit=2, offset=1) == ckan.action.package_list()[1:3]
        assert "gaj" in ckan.action.organization_list()
        orgs = ckan.action.organization_list(all_fields=True)
        assert {o["name"]: o["package_count"] for o in orgs}["dsj"] == 3
        org = ckan.action.organization_show(id="mzj", include_datasets=True)
        assert org["title"] == "大竹县民政局" and [p["name"] for p in org["packages"]] == ["raw_mzj-subsidy_roll"]
        assert "低保" in ckan.action.tag_list() and ckan.action.tag_list(query="sub") == ["subsidy"]
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="nope")
        with pytest.raises(ckanapi.NotFound):
            ckan.action.organization_show(id="nope")
        with pytest.raises(ckanapi.SearchQueryError):
            ckan.action.package_search(fq="owner:gaj")
        dumped = json.dumps(ckan.action.package_show(id="shared.resident_profile"), ensure_ascii=False)
        assert RAW_ID not in dumped and RAW_PHONE not in dumped
    with ckanapi.RemoteCKAN(server, apikey=tokens["analyst"], get_only=get_only) as ckan:  # mzj: shared only
        found = ckan.action.package_search(q="*:*", **{"facet.field": json.dumps(["organization"])})
        assert found["count"] == 2 and found["facets"]["organization"] == {"dsj": 2}
        assert ckan.action.package_list() == ["shared-resident_profile", "shared-township_overview"]
        assert {o["name"]: o["package_count"] for o in ckan.action.organization_list(all_fields=True)} == {"dsj": 2}
        with pytest.raises(ckanapi.NotAuthorized):
            ckan.action.package_show(id="raw_gaj-persons")


def test_both_ckan_url_forms(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog)
    client = token_client(app, tokens["admin"])
    for prefix in ("/api/3/action", "/api/action"):
        body = client.get(f"{prefix}/package_search", params={"q": "dibao"}).json()
        assert body["success"] and body["result"]["results"][0]["name"] == "raw_mzj-subsidy_roll"
    unknown = client.post("/api/3/action/package_create", json={"name": "x"})
    assert unknown.status_code == 400 and unknown.json()["success"] is False


@pytest.mark.parametrize(("ext", "fmt"), [("ttl", "turtle"), ("jsonld", "json-ld")])
def test_dcat_export_parses_back(catalog: Catalog, ext: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog)
    assert token_client(app, None).get(f"/catalog.{ext}").status_code == 401
    analyst = Graph().parse(data=token_client(app, tokens["analyst"]).get(f"/catalog.{ext}").text, format=fmt)
    assert len(set(analyst.objects(URIRef("http://testserver/catalog"), DCAT.dataset))) == 2  # shared only
    client = token_client(app, tokens["admin"])
    response = client.get(f"/catalog.{ext}")
    assert response.status_code == 200
    g = Graph().parse(data=response.text, format=fmt)
    base = "http://testserver/"
    cat = URIRef(base + "catalog")
    assert (cat, RDF.type, DCAT.Catalog) in g
    datasets = set(g.objects(cat, DCAT.dataset))
    assert len(datasets) == 9
    ds = URIRef(base + "datasets/shared.resident_profile")
    assert ds in datasets and (ds, RDF.type, DCAT.Dataset) in g
    assert Literal("居民综合画像", lang="zh") in set(g.objects(ds, DCTERMS.title))
    assert (ds, PROV.wasDerivedFrom, URIRef(base + "datasets/audit.resident_profile")) in g
    assert (ds, DCTERMS.publisher, URIRef(base + "departments/dsj")) in g
    access = URIRef("http://publications.europa.eu/resource/authority/access-right/RESTRICTED")
    assert (ds, DCTERMS.accessRights, access) in g
    raw = URIRef(base + "datasets/raw_gaj.persons")
    assert str(g.value(raw, DCTERMS.accrualPeriodicity) or "") == ""  # no update cycle given: none claimed
    assert len(list(g.objects(ds, DCAT.distribution))) == 2
    assert RAW_ID not in response.text and RAW_PHONE not in response.text


def test_openapi_usage_and_quality(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog)
    client = token_client(app, tokens["engineer"])  # gaj engineer: every zone; owner of raw_gaj.persons
    document = token_client(app, None).get("/api/openapi.json").json()  # the document is public
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["token"][
            "description"]}
    assert document["paths"]["/api/search"]["get"]["security"] == [{"token": []}]
    paths = document["paths"]
    for path in ("/api/search", "/api/datasets/{name}", "/api/datasets/{name}/impact", "/api/3/action/{name}",
                 "/catalog.{ext}"):
        assert path in paths, path
    assert client.post("/api/datasets/raw_gaj.persons/usage", json={"event": "query"}).status_code == 204
    assert client.post("/api/datasets/raw_gaj.persons/usage", json={"event": "hack"}).status_code == 422
    assert client.post("/api/datasets/nope/usage", json={"event": "query"}).status_code == 404
    client.get("/datasets/raw_gaj.persons")
    usage = client.get("/api/datasets/raw_gaj.persons").json()["usage"]
    assert usage["query"] == 1 and usage["page_view"] == 1 and usage["queries_per_week"] == 1
    search = client.get("/api/search", params={"q": "huji", "department": "gaj"}).json()
    assert search["count"] == 3 and search["facets"]["kind"] == {"raw_stream": 2, "model": 1}
    quality = client.get("/api/quality").json()
    assert [(q["name"], q["gate_status"]) for q in quality] == [("shared.resident_profile", "failed")]
    page = client.get("/quality")
    assert page.status_code == 200 and "shared.resident_profile" in page.text and "门禁未通过" in page.text
    assert "Quality overview" in client.get("/quality", params={"lang": "en"}).text
