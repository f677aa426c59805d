"""Searching the way county staff talk: synonyms, pinyin of column words, what to use first, the hidden audit zone,
and what a search with no hit offers instead."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from countyhub.catalog import Catalog, Column
from countyhub.catalog.synonyms import Synonyms, VocabularyError
from tests.unit.test_catalog import county_entries, entry


def names(cat: Catalog, q: str, n: int = 3, **facets: str) -> list[str]:
    return [h["name"] for h in cat.search(q, limit=n, **facets)]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}", vocabulary=tmp_path / "search_vocabulary.yml")
    for e in county_entries():
        cat.register_dataset(e)
    return cat


@pytest.mark.parametrize(("q", "expected"), [
    ("营业执照", "raw_scjgj.enterprises"),  # what everyone calls the registry titled 市场主体登记信息
    ("yingyezhizhao", "raw_scjgj.enterprises"),  # ... and its pinyin
    ("business licence", "raw_scjgj.enterprises"),
    ("最低生活保障", "raw_mzj.subsidy_roll"),  # the formal name of 低保, a keyword of the roll
    ("户口", "raw_gaj.households"),
])
def test_a_synonym_finds_what_the_word_finds(catalog: Catalog, q: str, expected: str) -> None:
    assert expected in names(catalog, q)


def test_without_the_vocabulary_those_words_find_nothing(catalog: Catalog) -> None:
    # The control for the test above: the vocabulary, not the index, is what finds them.
    index = catalog.index
    index.synonyms = Synonyms()
    assert index.search("营业执照") == [] and index.search("business licence") == []


def test_a_synonym_counts_only_whole(catalog: Catalog) -> None:
    # 社保 = 社会保险: a dataset with 社会 (社会救助) but no 保险 is not a social-insurance dataset.
    assert names(catalog, "社保") == []


def test_a_county_adds_its_own_words_and_the_next_query_uses_them(catalog: Catalog, tmp_path: Path) -> None:
    assert names(catalog, "一网统管") == []
    vocabulary = tmp_path / "search_vocabulary.yml"
    vocabulary.write_text("same:\n  - [一网统管, 城市管理网格]\nbroader:\n  扶贫: [救助]\n", encoding="utf-8")
    assert names(catalog, "一网统管") == ["raw_cgj.grids"]  # no re-index: applied at query time
    assert names(catalog, "扶贫") == ["raw_mzj.subsidy_roll"]
    vocabulary.write_text("same: []\n", encoding="utf-8")
    os.utime(vocabulary, (time.time() + 5, time.time() + 5))  # a new modification time even on coarse clocks
    assert names(catalog, "一网统管") == []


@pytest.mark.parametrize(("text", "where"), [
    ("same: 低保\n", ":1: 'same' must be a list of groups"),
    ("same: [低保]\n", ":1: a 'same' group must be a list of words"),
    ("same:\n  - [低保, '']\n", ":2: expected a word, got an empty value"),
    ("same:\n  - 低保\n", ":2: a 'same' group must be a list of words"),
    ("broader:\n  - 低保\n", ":1: 'broader' must map a word to wider words"),
    ("synonyms:\n  - [a, b]\n", ":1: unknown key 'synonyms'"),
    ("same:\n  - [低保, 最低生活保障\n", ":3: not valid YAML"),
])
def test_a_broken_vocabulary_file_is_named_with_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "search_vocabulary.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError) as err:
        Synonyms.load(path)
    assert str(err.value).startswith(str(path)) and where in str(err.value)


def test_pinyin_of_column_words_finds_the_dataset(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cat.register_dataset(entry("shared.enterprise_registry", "published", "企业名录", "enterprise directory", "scjgj",
                               "市场局", columns=[Column("uscc", "VARCHAR", "统一社会信用代码")]))
    cat.register_dataset(entry("raw_x.other", "raw_stream", "其他名录", "other directory", "x", "某局"))
    for q in ("tongyishehuixinyongdaima", "xinyongdaima", "tyshxydm"):
        assert names(cat, q, 1) == ["shared.enterprise_registry"], q


def test_the_published_dataset_comes_first_for_equal_relevance(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}")
    for name, kind in (("raw_mzj.roll", "raw_stream"), ("staging.stg_mzj__roll", "model"),
                       ("shared.allowance", "published")):
        cat.register_dataset(entry(name, kind, "低保名册", "allowance roll", "mzj", "民政局"))
    assert names(cat, "低保")[0] == "shared.allowance"


def test_a_column_of_a_shared_dataset_counts(catalog: Catalog) -> None:
    # shared.resident_profile carries the allowance in a column (receives_subsidy): 'subsidy' finds it too.
    assert "shared.resident_profile" in names(catalog, "subsidy", 5)


def test_the_audit_zone_is_left_out_unless_asked_for(catalog: Catalog) -> None:
    assert "audit.resident_profile" not in names(catalog, "居民综合画像", 10)
    assert "audit.resident_profile" not in names(catalog, "", 0)
    assert names(catalog, "居民综合画像", 10, zone="audit") == ["audit.resident_profile"]
    assert "audit.resident_profile" in names(catalog, "居民综合画像", 10, kind="model")
    assert names(catalog, "audit.resident_profile", 1) == ["audit.resident_profile"]  # its full name
    result = catalog.query("居民综合画像", facet_fields=("zone", "kind"))
    assert result.facets["zone"]["audit"] == 1  # the zone facet says where the hidden one is
    assert "audit.resident_profile" not in {h["name"] for h in result.hits}


def test_no_hit_suggests_the_nearest_words_that_find_something(catalog: Catalog) -> None:
    result = catalog.query("户集")  # a wrong character
    assert result.total == 0 and result.suggestions[0] == {"q": "户籍", "total": 4}
    result = catalog.query("subsdiy")  # two letters swapped: too far for the typo fallback of short words
    assert result.total == 0 and result.suggestions[0]["q"] == "subsidy" and result.suggestions[0]["total"]
    assert catalog.query("zzzqqq").suggestions == []


def test_no_hit_says_where_the_filters_left_hits(catalog: Catalog) -> None:
    result = catalog.query("户籍", {"department": "mzj"})
    assert result.total == 0 and result.elsewhere["department"]["gaj"] == 3
    result = catalog.query("画像", {"kind": "raw_stream"})
    assert result.total == 0 and result.elsewhere == {"kind": {"model": 1, "published": 1}}
    result = catalog.query("待检")  # only the audit zone has it
    assert result.total == 0 and result.elsewhere == {"zone": {"audit": 1}}
