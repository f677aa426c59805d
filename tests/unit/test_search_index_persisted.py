"""The search index on disk: a snapshot answers exactly as the index it was written from, later changes are
applied from the catalog's change log, and a stale or damaged snapshot is rebuilt instead of misread."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.catalog_data import generate
from countyhub.catalog import Catalog, Column, snapshot
from countyhub.catalog.search import SearchIndex
from countyhub.catalog.synonyms import Synonyms
from tests.unit.test_catalog import county_entries, entry

QUERIES = ["户籍", "huji", "hj", "低保", "营业执照", "天城 2019", "tiancheng hujirenkou", "enterprize", "roll",
           "housholds", "城镇", "shared", "明细", "market entities ledger", "zzzqqq", "户集", "公租房", "统计"]


def _entries(n: int) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "_meta"} for e in generate(n)]


def _answers(index: SearchIndex) -> list:
    out = []
    for q in QUERIES:
        for facets in ({}, {"department": "gaj"}, {"zone": "raw"}, {"tag": "人口"}):
            r = index.query(q, facets, rows=10, facet_fields=("department", "kind", "zone", "theme"))
            out.append((q, facets, r.total, [(h["name"], h["score"], h["gate_status"]) for h in r.hits],
                        {k: dict(v) for k, v in r.facets.items()}, r.suggestions))
    for sort in ("relevance", "freshness"):
        out.append([h["name"] for h in index.query("", rows=30, sort=sort).hits])
    visible = index.query("", rows=None, may_see=lambda schema, dept, sharing: dept == "mzj" or sharing == "unconditional")
    out.append(sorted(h["name"] for h in visible.hits))
    return out


def _changes(index: SearchIndex, entries: list[dict], start: int) -> None:
    """Re-register some datasets with new text, remove some, change the live status of others."""
    for e in entries[start: start + 15]:
        index.add(e | {"title_zh": e["title_zh"] + "更正", "keywords": [*e["keywords"], "更正"]})
    for e in entries[start + 15: start + 20]:
        index.remove(e["name"])
    for i, e in enumerate(entries[start + 20: start + 30]):
        index.set_status(e["name"], gate_status="failed" if i % 2 else "passed",
                         freshness=datetime(2024, 1, 1 + i, tzinfo=UTC))


def test_a_snapshot_answers_exactly_as_the_index_it_was_written_from(tmp_path: Path) -> None:
    entries = _entries(400)
    memory = SearchIndex(synonyms=Synonyms.load())
    for e in entries[:300]:
        memory.add(e)
    _changes(memory, entries, 0)
    opened = SearchIndex(snapshot.write(memory, tmp_path, {}), synonyms=Synonyms.load())
    assert opened._docs.base == len(memory) == 295
    assert _answers(opened) == _answers(memory)
    # Datasets indexed after the snapshot, and changes to snapshot ones, are searched alongside it.
    for index in (memory, opened):
        for e in entries[300:]:
            index.add(e)
        _changes(index, entries, 250)
    assert opened._docs.base == 295 and len(opened) == len(memory) == 390
    assert _answers(opened) == _answers(memory)
    # ... and a snapshot of that snapshot-plus-changes still answers the same.
    again = SearchIndex(snapshot.write(opened, tmp_path, {}), synonyms=Synonyms.load())
    assert again._docs.base == 390 and _answers(again) == _answers(memory)


def _catalog(tmp_path: Path, db: str = "catalog.sqlite") -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / db}", index_dir=tmp_path / "search-index")


def test_a_new_process_opens_the_snapshot_and_reads_later_changes_from_the_log(tmp_path: Path) -> None:
    first = _catalog(tmp_path)
    for e in county_entries():
        first.register_dataset(e)
    assert first.search("营业执照")[0]["name"] == "raw_scjgj.enterprises"  # builds and saves the index
    folder, stamp = snapshot.current(tmp_path / "search-index")
    assert stamp["documents"] == 9
    writer = _catalog(tmp_path)  # another process, registering and loading without ever searching
    writer.register_dataset(entry("raw_gaj.migrations", "raw_stream", "户籍迁移记录", "household transfers", "gaj",
                                  "公安局"))
    writer.record_load("raw_gaj.persons", "L9", 5, "success", datetime(2030, 1, 1, tzinfo=UTC),
                       datetime(2030, 1, 1, tzinfo=UTC))
    reader = _catalog(tmp_path)
    hits = reader.search("户籍迁移")
    assert reader._index._docs.base == 9  # opened from the snapshot, not rebuilt
    assert hits[0]["name"] == "raw_gaj.migrations"
    assert reader.search("", sort="freshness", limit=1)[0]["name"] == "raw_gaj.persons"
    assert snapshot.current(tmp_path / "search-index")[0] == folder  # one change: no new snapshot yet
    assert first.search("户籍迁移")[0]["name"] == "raw_gaj.migrations"  # a live index catches up too


def test_many_changes_since_the_snapshot_write_a_new_one(tmp_path: Path) -> None:
    cat = _catalog(tmp_path)
    cat.register_dataset(county_entries()[0])
    cat.search("户籍")
    before = snapshot.current(tmp_path / "search-index")[0]
    writer = _catalog(tmp_path)
    for i in range(210):
        writer.register_dataset(entry(f"raw_x.table_{i}", "raw_stream", f"台账{i}", f"ledger {i}", "x", "某局"))
    reader = _catalog(tmp_path)
    assert len(reader.search("ledger", limit=0)) == 210
    folder, stamp = snapshot.current(tmp_path / "search-index")
    assert folder != before and stamp["documents"] == 211
    assert reader._index._docs.base == 211  # the reader now works from the new snapshot


def test_a_snapshot_of_another_catalog_is_not_used(tmp_path: Path) -> None:
    old = _catalog(tmp_path)
    for e in county_entries():
        old.register_dataset(e)
    old.search("户籍")
    old.engine.dispose()
    (tmp_path / "catalog.sqlite").unlink()  # the catalog is recreated; the index folder stays behind
    new = _catalog(tmp_path)
    new.register_dataset(entry("raw_y.only", "raw_stream", "唯一数据", "the only one", "y", "某局"))
    assert new.search("户籍") == [] and [h["name"] for h in new.search("", limit=0)] == ["raw_y.only"]


@pytest.mark.parametrize("damage", ["pointer", "postings", "docs"])
def test_a_damaged_snapshot_is_rebuilt(tmp_path: Path, damage: str) -> None:
    cat = _catalog(tmp_path)
    for e in county_entries():
        cat.register_dataset(e)
    expected = [h["name"] for h in cat.search("户籍")]
    folder, _ = snapshot.current(tmp_path / "search-index")
    if damage == "pointer":
        (tmp_path / "search-index" / "CURRENT").write_text("snap-missing")
    elif damage == "postings":
        (folder / "post_ids.npy").write_bytes(b"\x93NUMPY broken")
    else:
        (folder / "docs.npz").unlink()
    assert [h["name"] for h in _catalog(tmp_path).search("户籍")] == expected


def test_an_unwritable_index_folder_costs_speed_not_answers(tmp_path: Path) -> None:
    (tmp_path / "search-index").write_text("a file where the folder should be")
    cat = _catalog(tmp_path)
    for e in county_entries():
        cat.register_dataset(e)
    assert cat.search("营业执照")[0]["name"] == "raw_scjgj.enterprises"


def test_a_fresh_process_answers_from_the_snapshot_without_loading_the_dictionaries(tmp_path: Path) -> None:
    cat = _catalog(tmp_path)
    for e in county_entries():
        cat.register_dataset(e)
    cat.search("户籍")
    # Registered after the snapshot: the fresh process applies it from the terms stored at registration.
    cat.register_dataset(entry("raw_gaj.migrations", "raw_stream", "户籍迁移记录", "household transfers", "gaj",
                               "公安局", columns=[Column("from_address", "VARCHAR", "迁出地址")]))
    script = (
        "import json, sys\n"
        "from countyhub.catalog import Catalog, text\n"
        "cat = Catalog(sys.argv[1], index_dir=sys.argv[2])\n"
        "hits = [[h['name'] for h in cat.search(q)] for q in ('yingyezhizhao', '户籍迁移', 'qianchudizhi')]\n"
        "print(json.dumps({'hits': hits, 'from_snapshot': cat._index._docs.base,\n"
        "                  'dictionaries': [text._tokenizer is not None, 'pypinyin' in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, cat.url, str(tmp_path / "search-index")],
                         capture_output=True, text=True, check=True, timeout=120)
    got = json.loads(out.stdout)
    assert got["from_snapshot"] == 9 and got["dictionaries"] == [False, False]
    assert got["hits"][0][0] == "raw_scjgj.enterprises"
    assert got["hits"][1][0] == got["hits"][2][0] == "raw_gaj.migrations"


def test_a_fresh_process_splits_queries_with_the_index_words_as_the_full_dictionary_does(tmp_path: Path) -> None:
    """Loading jieba's dictionary takes a second; a process that only searches splits queries with the words the
    saved index holds. For queries made of catalog words the terms must be exactly the full dictionary's."""
    from bench.catalog_data import labelled_queries
    from countyhub.catalog.text import tokenize

    entries = generate(1000)
    index = SearchIndex()
    for e in entries:
        index.add(e)
    folder = snapshot.write(index, tmp_path, {})
    catalog_words = [q.q for q in labelled_queries(entries)] + [e["title_zh"] for e in entries[:300]]
    # Words the catalog never uses (营业执照, 办理, 发放): split smaller, but every term that can match is the same.
    other_words = ["天城镇户籍人口台账", "营业执照办理", "最低生活保障金发放", "大竹县公安局户籍管理系统"]
    queries = catalog_words + other_words
    expected = [tokenize(q, pinyin=False) for q in queries]
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from countyhub.catalog import snapshot, text\n"
        "snapshot.open_index(Path(sys.argv[1]))\n"
        "queries = json.loads(sys.stdin.read())\n"
        "terms = [text.tokenize(q, pinyin=False, query=True) for q in queries]\n"
        "print(json.dumps({'terms': terms, 'full_dictionary_loaded': text._tokenizer is not None}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(folder)], input=json.dumps(queries), capture_output=True,
                         text=True, check=True, timeout=120)
    got = json.loads(out.stdout)
    assert got["full_dictionary_loaded"] is False
    pairs = list(zip(queries, expected, got["terms"], strict=True))
    assert [(q, e, g) for q, e, g in pairs[: len(catalog_words)] if e != g] == []
    indexed = set(index._postings)
    assert [(q, e, g) for q, e, g in pairs[len(catalog_words):] if set(e) & indexed != set(g) & indexed] == []
    assert any(e != g for _, e, g in pairs[len(catalog_words):])  # the control: those do split differently
