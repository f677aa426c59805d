"""The catalog: store upserts, PII masking, gate history, Chinese/pinyin/English search, and the web pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.search import stem
from countyhub.catalog.synonyms import Synonyms
from countyhub.core.masking import mask_as, mask_text
from tests.fixtures.sharing_web import governed_app, token_client

RAW_ID = "511724199001011234"
RAW_PHONE = "13812345678"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def entry(name: str, kind: str, title_zh: str, title_en: str, dept: str, dept_name: str, **kw) -> DatasetEntry:
    defaults = {"description": "", "sharing_type": "conditional", "classification": "internal",
                "columns": [Column("id", "INTEGER")]}
    return DatasetEntry(name=name, kind=kind, title_zh=title_zh, title_en=title_en, department_code=dept,
                        department_name=dept_name, **(defaults | kw))


PERSON_COLS = [
    Column("person_id", "INTEGER", "人员编号"),
    Column("id_number", "VARCHAR", "公民身份号码", "sensitive"),
    Column("name", "VARCHAR", "姓名", "sensitive"),
    Column("phone", "VARCHAR", "手机号码", "internal"),
    Column("township_code", "VARCHAR", "乡镇代码", "public"),
]


def county_entries() -> list[DatasetEntry]:
    gaj, mzj, scj, dsj = "大竹县公安局", "大竹县民政局", "大竹县市场监督管理局", "大竹县政务服务和大数据管理局"
    return [
        entry("raw_gaj.persons", "raw_stream", "户籍人口", "Registered residents", "gaj", gaj,
              classification="sensitive", columns=PERSON_COLS, keywords=["户籍", "人口", "居民", "residents"],
              description="户籍管理系统中的人口信息"),
        entry("raw_gaj.households", "raw_stream", "户籍户", "Registered households", "gaj", gaj,
              classification="sensitive", keywords=["户籍", "户口", "household"]),
        entry("raw_mzj.subsidy_roll", "raw_stream", "社会救助发放名册", "Social assistance subsidy roll", "mzj",
              mzj, classification="sensitive", keywords=["低保", "救助", "补贴", "subsidy", "welfare"],
              columns=[Column("身份证号", "VARCHAR", "", "sensitive"), Column("救助类型", "VARCHAR")]),
        entry("raw_scjgj.enterprises", "raw_stream", "市场主体登记信息", "Registered enterprises", "scjgj", scj,
              sharing_type="unconditional", classification="public",
              keywords=["企业", "市场主体", "enterprise", "company"], columns=[Column("uscc", "VARCHAR")]),
        entry("raw_cgj.grids", "raw_stream", "城市管理网格", "Urban management grid cells", "cgj",
              "大竹县综合行政执法局", sharing_type="unconditional", classification="public",
              keywords=["网格", "城管", "grid"]),
        entry("staging.stg_gaj__persons", "model", "户籍人口（清洗）", "Persons, staged", "gaj", gaj,
              classification="sensitive", upstream=["raw_gaj.persons"]),
        entry("audit.resident_profile", "model", "居民综合画像（待检）", "Resident profile (audit)", "dsj", dsj,
              upstream=["staging.stg_gaj__persons"]),
        entry("shared.resident_profile", "published", "居民综合画像", "Resident profile", "dsj", dsj,
              classification="sensitive", columns=PERSON_COLS[:3] + [Column("receives_subsidy", "BOOLEAN")],
              upstream=["audit.resident_profile"], contract="contracts/dsj/resident_profile.odcs.yaml",
              description="一人一行的居民画像，含户籍、低保和企业法人信息", keywords=["画像", "居民"],
              sample_rows=[{"person_id": 1, "id_number": RAW_ID, "name": "张三", "phone": RAW_PHONE,
                            "township_code": "511724100", "note": f"联系电话{RAW_PHONE}，身份证{RAW_ID}"}]),
        entry("shared.township_overview", "published", "乡镇综合概况", "Township overview", "dsj", dsj,
              sharing_type="unconditional", classification="public", upstream=["shared.resident_profile"]),
    ]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for e in county_entries():
        cat.register_dataset(e)
    return cat


def top(cat: Catalog, q: str, **facets) -> str:
    hits = cat.search(q, **facets)
    assert hits, f"no hit for {q!r}"
    return hits[0]["name"]


@pytest.mark.parametrize(("q", "expected"), [
    ("户籍", {"raw_gaj.persons", "raw_gaj.households"}),
    ("低保", {"raw_mzj.subsidy_roll"}),
    ("企业", {"raw_scjgj.enterprises"}),
    ("城管网格", {"raw_cgj.grids"}),
])
def test_search_chinese_word(catalog: Catalog, q: str, expected: set[str]) -> None:
    assert top(catalog, q) in expected


@pytest.mark.parametrize(("q", "expected"), [
    ("huji", {"raw_gaj.persons", "raw_gaj.households"}),
    ("hj", {"raw_gaj.persons", "raw_gaj.households"}),
    ("dibao", {"raw_mzj.subsidy_roll"}),
    ("qiye", {"raw_scjgj.enterprises"}),
    ("hujirenkou", {"raw_gaj.persons"}),
])
def test_search_pinyin_full_and_initials(catalog: Catalog, q: str, expected: set[str]) -> None:
    assert top(catalog, q) in expected


@pytest.mark.parametrize(("q", "expected"), [
    ("residents", {"raw_gaj.persons", "shared.resident_profile"}),
    ("enterprise", {"raw_scjgj.enterprises"}),
    ("Enterprises", {"raw_scjgj.enterprises"}),
    ("households", {"raw_gaj.households"}),
    ("grid", {"raw_cgj.grids"}),
])
def test_search_english_word(catalog: Catalog, q: str, expected: set[str]) -> None:
    assert top(catalog, q) in expected


def test_exact_name_ranked_first(catalog: Catalog) -> None:
    assert top(catalog, "resident_profile") == "shared.resident_profile"  # published beats audit
    assert top(catalog, "shared.resident_profile") == "shared.resident_profile"
    assert top(catalog, "audit.resident_profile") == "audit.resident_profile"
    assert top(catalog, "lake.shared.township_overview") == "shared.township_overview"
    assert top(catalog, "stg_gaj__persons") == "staging.stg_gaj__persons"
    hits = catalog.search("resident_profile")
    assert hits[0]["score"] > hits[1]["score"]
    assert {"name", "title_zh", "title_en", "department", "sharing_type", "kind", "score"} <= set(hits[0])


def test_search_without_match_returns_nothing(catalog: Catalog) -> None:
    assert catalog.search("zzzqqq") == []


def test_facets_filter(catalog: Catalog) -> None:
    assert {h["kind"] for h in catalog.search("户籍", kind="raw_stream")} == {"raw_stream"}
    assert {h["name"] for h in catalog.search("户籍", kind="model")} == {"staging.stg_gaj__persons"}
    assert {d["name"] for d in catalog.datasets(department="gaj")} == {
        "raw_gaj.persons", "raw_gaj.households", "staging.stg_gaj__persons"}
    assert {d["name"] for d in catalog.datasets(sharing_type="unconditional", kind="published")} == {
        "shared.township_overview"}
    assert len(catalog.search("", limit=100, classification="public")) == 3
    with pytest.raises(ValueError, match="unknown facet"):
        catalog.search("户籍", owner="gaj")


def test_sample_rows_and_gate_results_are_masked(catalog: Catalog) -> None:
    catalog.record_gate_run("shared.resident_profile", "r1", False, f"duplicate id_number {RAW_ID}",
                            [{"rule": "unique", "column": "id_number", "expectation": "unique",
                              "observed": [RAW_ID, "张三"], "threshold": 0, "success": False, "severity": "error"}],
                            T0, T0 + timedelta(seconds=3))
    catalog.record_load("shared.resident_profile", "L1", 10, "failed", T0, T0, f"bad row {RAW_PHONE}")
    got = catalog.get("shared.resident_profile")
    dumped = json.dumps(got, default=str, ensure_ascii=False)
    assert RAW_ID not in dumped and RAW_PHONE not in dumped and "张三" not in dumped
    row = got["sample_rows"][0]
    # The display masks, as the rows API applies them.
    assert row["id_number"] == "511724********1234"
    assert row["phone"] == "138****5678"  # internal column, masked because it looks like a mobile number
    assert row["name"] == "张*"
    assert row["township_code"] == "511724100" and row["person_id"] == 1
    assert "138****5678" in row["note"] and "511724********1234" in row["note"]
    # stored masked: the raw values never reach the database file
    db = Path(catalog.url.removeprefix("sqlite:///")).read_bytes()
    assert RAW_ID.encode() not in db and RAW_PHONE.encode() not in db


def test_mask_helpers() -> None:
    assert mask_as("id_number", RAW_ID) == "511724********1234"
    assert mask_as("address", "四川省达州市大竹县竹阳街道人民路1号") == "四川省达州市大竹县竹阳街道"
    assert mask_text("ID 51172419900101123X, tel 13912345678, code 511724100") == (
        "ID 511724********123X, tel 139****5678, code 511724100")
    assert mask_text("uscc 91511724MA62X0XX1A") == "uscc 91511724MA62X0XX1A"


def test_gate_history_freshness_and_publication(catalog: Catalog) -> None:
    name = "shared.township_overview"
    assert catalog.get(name)["gate_status"] == "not_gated"
    for i, ok in enumerate([True, False, True, False]):
        results = [{"rule": "rows", "column": None, "expectation": "row_count > 0", "observed": 9,
                    "threshold": 1, "success": True, "severity": "error"},
                   {"rule": "not_null", "column": "township_code", "expectation": "not null", "observed": 0 if ok
                    else 2, "threshold": 0, "success": ok, "severity": "error"}]
        start = T0 + timedelta(days=i)
        catalog.record_gate_run(name, f"run{i}", ok, "" if ok else "township_code has nulls", results, start,
                                start + timedelta(seconds=5))
    catalog.record_gate_run(name, "run3", False, "township_code has nulls", results, start, start)  # re-record
    catalog.record_load(name, "L1", 9, "success", T0, T0 + timedelta(minutes=1))
    catalog.record_load(name, "L2", 0, "failed", T0 + timedelta(days=1), T0 + timedelta(days=1))
    catalog.record_publication(name, 1, 10, 9, T0)
    catalog.record_publication(name, 2, 14, 9, T0 + timedelta(days=2))
    got = catalog.get(name)
    assert [h["success"] for h in got["gate_history"]] == [True, False, True, False]
    assert got["gate_status"] == "failed"
    assert got["latest_gate"]["reason"] == "township_code has nulls"
    assert [r["rule"] for r in got["latest_gate"]["failed_rules"]] == ["not_null"]
    assert got["latest_gate"]["passed_rules"] == 1 and got["latest_gate"]["total_rules"] == 2
    assert got["freshness"] == T0 + timedelta(minutes=1)  # the failed load does not make it fresher
    assert got["latest_load"]["load_id"] == "L2"
    assert got["published_version"] == 2 and got["publication"]["snapshot_id"] == 14
    assert {d["name"]: d["gate_status"] for d in catalog.datasets()}[name] == "failed"


def test_timestamps_are_utc(catalog: Catalog) -> None:
    beijing = timezone(timedelta(hours=8))
    catalog.record_load("raw_gaj.persons", "L1", 5, "success", datetime(2024, 5, 1, 16, 0, tzinfo=beijing),
                        datetime(2024, 5, 1, 16, 30, tzinfo=beijing))
    fresh = catalog.get("raw_gaj.persons")["freshness"]
    assert fresh == datetime(2024, 5, 1, 8, 30, tzinfo=UTC) and fresh.tzinfo is not None


def test_reregister_is_an_upsert(catalog: Catalog) -> None:
    before = len(catalog.datasets())
    changed = county_entries()[3]
    changed.title_zh, changed.keywords = "企业名录", ["名录"]
    catalog.register_dataset(changed)
    catalog.register_dataset(changed)
    assert len(catalog.datasets()) == before
    assert catalog.get("raw_scjgj.enterprises")["title_zh"] == "企业名录"
    assert top(catalog, "名录") == "raw_scjgj.enterprises"
    index = catalog.index
    index.synonyms = Synonyms()  # 'company' is a synonym of 企业 (still in the new title): look at the terms alone
    assert index.search("company") == []  # the old keyword is gone from the index
    assert len(catalog.index) == before


def test_index_rebuilt_from_store(catalog: Catalog) -> None:
    reopened = Catalog(catalog.url)
    assert top(reopened, "dibao") == "raw_mzj.subsidy_roll"
    assert reopened.get("shared.resident_profile")["downstream"] == ["shared.township_overview"]


def test_rejects_unknown_sharing_type(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="sharing_type"):
        catalog.register_dataset(entry("x.y", "model", "x", "x", "d", "d", sharing_type="sometimes"))


def test_stemmer() -> None:
    assert [stem(w) for w in ["residents", "companies", "registered", "loading", "business", "status"]] == [
        "resident", "company", "register", "load", "business", "status"]


def test_web_pages_and_api(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog.record_gate_run("shared.resident_profile", "r1", True, "", [], T0, T0)
    catalog.record_load("shared.resident_profile", "L1", 3, "success", T0, T0)
    app, tokens = governed_app(monkeypatch, catalog)
    client = token_client(app, tokens["admin"])  # an admin of dsj, the owner: sees every entry and its samples
    home = client.get("/")
    assert home.status_code == 200 and "居民综合画像" in home.text and "市场主体登记信息" in home.text
    found = client.get("/", params={"q": "户籍", "kind": "raw_stream"})
    assert found.status_code == 200 and "户籍人口" in found.text and "居民综合画像" not in found.text
    page = client.get("/datasets/shared.resident_profile")
    assert page.status_code == 200
    for text in ["居民综合画像", "id_number", "敏感", "gate-chart", "门禁通过", "大竹县政务服务和大数据管理局",
                 "SELECT * FROM shared.resident_profile LIMIT 10", "audit.resident_profile",
                 "shared.township_overview", "511724********1234", "2024-05-01 08:00 UTC"]:
        assert text in page.text, text
    assert RAW_ID not in page.text and RAW_PHONE not in page.text
    assert "Schema" in client.get("/datasets/shared.resident_profile", params={"lang": "en"}).text
    assert client.get("/datasets/nope.nothing").status_code == 404
    dept = client.get("/departments/gaj")
    assert dept.status_code == 200 and "大竹县公安局" in dept.text
    assert len(client.get("/api/datasets", params={"department": "gaj"}).json()) == 3
    api = client.get("/api/datasets/shared.resident_profile").json()
    assert api["gate_status"] == "passed" and RAW_ID not in json.dumps(api)
    assert client.get("/api/datasets/nope").status_code == 404
    assert client.get("/api/search", params={"q": "huji"}).json()["hits"][0]["department"] == "gaj"
    # the index caught up with every registration; the audit zone's one entry shows only when asked for
    assert client.get("/api/search").json()["count"] == 8
    assert [h["name"] for h in client.get("/api/search", params={"zone": "audit"}).json()["hits"]] == [
        "audit.resident_profile"]
    assert token_client(app, None).get("/healthz").json() == {"status": "ok"}  # public, and says nothing more


def test_web_pages_and_api_for_an_analyst_of_another_department(catalog: Catalog,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog)
    anonymous = token_client(app, None)
    assert anonymous.get("/").status_code == 303 and anonymous.get("/").headers["location"] == "/login?next=%2F"
    refused = anonymous.get("/api/search")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    client = token_client(app, tokens["analyst"])  # mzj: shared entries only; no grant on dsj's datasets
    home = client.get("/")
    assert "居民综合画像" in home.text and "市场主体登记信息" not in home.text and "户籍人口" not in home.text
    search = client.get("/api/search").json()
    assert search["count"] == 2 and search["facets"]["kind"] == {"published": 2}
    assert {d["name"] for d in client.get("/api/datasets").json()} == {"shared.resident_profile",
                                                                       "shared.township_overview"}
    page = client.get("/datasets/shared.resident_profile")  # conditional, no grant: the entry, no samples
    assert page.status_code == 200 and "id_number" in page.text and "511724********1234" not in page.text
    assert "conditional dataset; no approved grant for department mzj" in page.text
    api = client.get("/api/datasets/shared.resident_profile").json()
    assert api["sample_rows"] == [] and api["access"]["rows"] is False
    raw = client.get("/api/datasets/raw_gaj.persons")
    assert raw.status_code == 403 and "engineers and admins" in raw.json()["detail"]
    assert client.get("/datasets/raw_gaj.persons").status_code == 403
    assert client.get("/api/departments").json() == [{"code": "dsj", "name": "大竹县政务服务和大数据管理局",
                                                      "datasets": 2}]


def test_a_scheduled_task_failure_shows_on_the_page_until_a_later_publication(catalog: Catalog,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    name = "shared.township_overview"
    catalog.record_publication(name, 1, 10, 9, T0)
    assert catalog.get(name)["run_failure"] is None
    catalog.record_run_failure(name, "county_build.gate_township_overview", "scheduled__2024",
                               f"gate crashed reading row of {RAW_ID}", T0 + timedelta(hours=1))
    failure = catalog.get(name)["run_failure"]
    assert failure["task"] == "county_build.gate_township_overview" and failure["run_id"] == "scheduled__2024"
    assert RAW_ID not in failure["message"]  # an identity number in an error is masked like everywhere else
    app, tokens = governed_app(monkeypatch, catalog)
    page = token_client(app, tokens["admin"]).get(f"/datasets/{name}")
    assert 'id="run-failure"' in page.text and "county_build.gate_township_overview" in page.text
    catalog.record_publication(name, 2, 12, 9, T0 + timedelta(hours=2))
    assert catalog.get(name)["run_failure"] is None
    assert 'id="run-failure"' not in token_client(app, tokens["admin"]).get(f"/datasets/{name}").text
