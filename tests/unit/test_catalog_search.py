"""Catalog search in depth: typos, pinyin pairs, new facets, sorting, paging, defaults, and cross-process sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.entry import derive_resource_code
from countyhub.catalog.search import SearchIndex
from tests.unit.test_catalog import county_entries, entry, top

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for e in county_entries():
        if e.name.startswith("raw_gaj"):
            e.themes, e.update_cycle = ["人口"], "@daily"
        cat.register_dataset(e)
    return cat


@pytest.mark.parametrize(("q", "expected"), [
    ("housholds", "raw_gaj.households"),  # one letter missing
    ("enterprize", "raw_scjgj.enterprises"),  # one letter wrong
    ("subsidt", "raw_mzj.subsidy_roll"),
])
def test_typo_tolerance_for_latin_words(catalog: Catalog, q: str, expected: str) -> None:
    assert top(catalog, q) == expected


def test_typos_do_not_match_unrelated_words(catalog: Catalog) -> None:
    assert catalog.search("zzzqqq") == []
    assert catalog.search("qxv") == []  # too short to be corrected


def test_pinyin_of_word_pairs_inside_a_longer_title(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cat.register_dataset(entry("raw_x.ledger", "raw_stream", "天城镇2019年户籍人口台账", "ledger", "gaj", "公安局"))
    cat.register_dataset(entry("raw_x.other", "raw_stream", "竹阳街道2019年企业名录", "directory", "scjgj", "市场局"))
    for q in ("hujirenkou", "hjrk", "天城", "tiancheng 2019", "hujirenkou taizhang"):
        assert top(cat, q) == "raw_x.ledger", q


def test_new_facets_filter_and_count(catalog: Catalog) -> None:
    result = catalog.query("", {"theme": "人口"}, rows=50)
    assert {h["name"] for h in result.hits} == {"raw_gaj.persons", "raw_gaj.households"}
    assert result.total == 2
    assert result.facets["department"] == {"gaj": 2}
    assert catalog.query("", {"update_cycle": "@daily"}).total == 2
    assert {h["name"] for h in catalog.search("", limit=0, resource_class="thematic")} == {
        "shared.resident_profile", "shared.township_overview"}
    assert {h["name"] for h in catalog.search("", limit=0, tag="低保")} == {"raw_mzj.subsidy_roll"}
    # drill-down: counts of a facet ignore that facet's own selection but honour the others
    counts = catalog.query("", {"kind": "raw_stream", "department": "gaj"}).facets
    assert counts["kind"] == {"raw_stream": 2, "model": 1}
    assert counts["department"]["mzj"] == 1


def test_quality_status_facet_follows_gate_runs(catalog: Catalog) -> None:
    catalog.record_gate_run("shared.township_overview", "r1", False, "nulls", [], T0, T0)
    catalog.record_gate_run("shared.resident_profile", "r1", True, "", [], T0, T0)
    assert [h["name"] for h in catalog.search("", gate_status="failed")] == ["shared.township_overview"]
    catalog.record_gate_run("shared.township_overview", "r2", True, "", [], T0 + timedelta(hours=1), T0)
    assert catalog.search("", gate_status="failed") == []
    assert len(catalog.search("", limit=0, gate_status="passed")) == 2


def test_sort_by_freshness_and_paging(catalog: Catalog) -> None:
    catalog.record_load("raw_cgj.grids", "L1", 3, "success", T0, T0 + timedelta(days=3))
    catalog.record_load("raw_gaj.persons", "L1", 3, "success", T0, T0 + timedelta(days=1))
    catalog.record_publication("shared.township_overview", 1, 5, 9, T0 + timedelta(days=2))
    fresh = [h["name"] for h in catalog.search("", limit=3, sort="freshness")]
    assert fresh == ["raw_cgj.grids", "shared.township_overview", "raw_gaj.persons"]
    everything = [h["name"] for h in catalog.query("", rows=None).hits]
    pages = [h["name"] for s in range(0, 9, 4) for h in catalog.query("", start=s, rows=4).hits]
    assert pages == everything and len(everything) == 8 and "audit.resident_profile" not in everything
    with pytest.raises(ValueError, match="sort"):
        catalog.search("", sort="alphabetical")


def test_index_follows_writes_from_another_process(catalog: Catalog) -> None:
    """The web server's Catalog sees what the flow's Catalog (another process, same store) registers."""
    server = Catalog(catalog.url)
    catalog.register_dataset(entry("raw_jyj.students", "raw_stream", "在校学生", "Enrolled students", "jyj", "教育局",
                                   keywords=["学生"]))
    catalog.record_gate_run("shared.resident_profile", "g1", False, "dup", [], T0, T0)
    assert top(server, "xuesheng") == "raw_jyj.students"
    assert [h["name"] for h in server.search("", gate_status="failed")] == ["shared.resident_profile"]
    assert server.sync() == 0  # already caught up


def test_defaults_for_catalog_fields(catalog: Catalog) -> None:
    got = catalog.get("shared.township_overview")
    assert got["resource_class"] == "thematic" and got["open_attribute"] == "conditional_open"
    assert got["sharing_modes"] == ["query", "api", "download"]
    assert got["resource_code"].startswith("2S-DSJ-") and got["issued"] == got["modified"][:10]
    raw = catalog.get("raw_gaj.persons")
    assert raw["resource_class"] == "departmental" and raw["sharing_modes"] == ["query"]
    assert raw["open_attribute"] == "not_open"
    same = entry("raw_gaj.persons", "raw_stream", "x", "x", "gaj", "x")
    same.resource_class = "departmental"
    assert derive_resource_code(same) == raw["resource_code"]  # stable across registrations


def test_explicit_fields_win_and_issued_is_kept(catalog: Catalog) -> None:
    first = catalog.get("raw_cgj.grids")["issued"]
    e = entry("raw_cgj.grids", "raw_stream", "城市管理网格", "Grid", "cgj", "城管", resource_code="510000/CGJ/0001",
              resource_class="basic", sharing_modes=["query", "download"], steward="网格中心 王工",
              contact="grid@cgj.example.gov.cn 13812345678", contract_version="1.2.0")
    catalog.register_dataset(e)
    got = catalog.get("raw_cgj.grids")
    assert got["resource_code"] == "510000/CGJ/0001" and got["resource_class"] == "basic"
    assert got["sharing_modes"] == ["query", "download"] and got["issued"] == first
    assert "13812345678" not in got["contact"]  # a mobile number in a contact is masked like any PII


def test_rejects_unknown_codes(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="resource_class"):
        catalog.register_dataset(entry("x.y", "model", "x", "x", "d", "d", resource_class="misc"))
    with pytest.raises(ValueError, match="sharing mode"):
        catalog.register_dataset(entry("x.y", "model", "x", "x", "d", "d", sharing_modes=["fax"]))


def test_remove_and_reindex_keep_postings_clean() -> None:
    index = SearchIndex()
    doc = {"name": "raw_a.b", "title_zh": "户籍人口", "title_en": "residents", "kind": "raw_stream",
           "department_code": "gaj", "columns": [Column("id", "INTEGER").__dict__], "keywords": ["户籍"]}
    index.add(doc)
    index.add(doc | {"title_zh": "企业名录", "keywords": ["企业"]})
    assert index.search("户籍") == [] and index.search("qiye")[0]["name"] == "raw_a.b"
    index.remove("raw_a.b")
    assert len(index) == 0 and index.search("qiye") == [] and index.search("") == []
    index.add(doc)
    assert len(index) == 1 and "raw_a.b" in index


def test_entry_dataclass_defaults_are_not_shared() -> None:
    a = DatasetEntry("a.a", "model", "a", "a", "", "d", "d", "conditional", "internal", [])
    b = DatasetEntry("b.b", "model", "b", "b", "", "d", "d", "conditional", "internal", [])
    a.themes.append("人口")
    assert b.themes == []
