"""The SQLite FTS5 contender of the catalog benchmark: our terms survive its tokenizer and a title finds its entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.catalog_data import generate
from bench.catalog_fts5 import TOKENIZER, build, open_db, search


def test_our_terms_are_single_fts5_tokens() -> None:
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = \"{TOKENIZER}\")")
    con.execute("INSERT INTO t VALUES ('shared.resident_profile 户籍人口 hjrk 2021')")
    con.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    assert {r[0] for r in con.execute("SELECT term FROM v")} == {"shared.resident_profile", "户籍人口", "hjrk", "2021"}


def test_exact_title_finds_its_entry_first(tmp_path: Path) -> None:
    entries = generate(50)
    path = tmp_path / "fts5.sqlite"
    assert build(entries, path) > 0
    con = open_db(path)
    for e in entries[:10]:
        assert search(con, e["title_zh"], {})[0] == e["name"]
        assert search(con, e["title_en"], {})[0] == e["name"]
    e = entries[3]
    other = next(x for x in entries if x["department_code"] != e["department_code"])
    assert search(con, e["title_zh"], {"department": other["department_code"]})[:1] != [e["name"]]
    assert search(con, e["title_zh"], {"department": [e["department_code"]], "kind": e["kind"]})[0] == e["name"]
