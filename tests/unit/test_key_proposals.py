"""Key proposals on SQLite and drop files: `sources add --discover` comments the proposal next to the empty key,
`sources test` warns about incremental streams without a key and declared keys the data breaks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from countyhub.connectors import Stream, get_connector
from countyhub.connectors.keys import SAMPLE_ROWS, check_key, propose_key
from tests.fixtures.cli import run_cli

ADD = ("sources", "add", "rsj", "--name", "人社局", "--name-en", "Human resources", "--steward", "王工")
THEN = "set it, or incremental loads append updated rows as duplicates"
ASK = "ask the department which columns identify a row and set them, or incremental loads append updated rows as duplicates"


def _seed(db: Path) -> None:
    with sqlite3.connect(db) as con:
        # 姓名 is unique here too, and narrower, but an ID-number-like column is what a department means.
        con.execute("CREATE TABLE insured (姓名 TEXT, 身份证号 TEXT, 备注 TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO insured VALUES (?, ?, ?, ?)", [
            ("张三", "511724198001010011", "一", "2026-11-01"), ("李四", "511724199002020022", "二", "2026-11-01"),
            ("王五", "511724197503030033", "三", "2026-11-02")])
        # One household, several members: only the pair says who is who.
        con.execute("CREATE TABLE members (household_no TEXT, member_no INTEGER, name TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO members VALUES (?, ?, ?, ?)", [
            ("H001", 1, "张三", "2026-11-01"), ("H001", 2, "李四", "2026-11-01"), ("H002", 1, "张三", "2026-11-01")])
        con.execute("CREATE TABLE payments (town TEXT, amount_code TEXT, updated_at TEXT)")
        con.executemany("INSERT INTO payments VALUES (?, ?, ?)", [
            ("竹阳", "A", "2026-11-01"), ("竹阳", "A", "2026-11-02"), ("庙坝", "B", "2026-11-03")])
    con.close()


def test_propose_key_prefers_an_id_column_then_a_pair_and_says_when_none_holds(tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    connector = get_connector("sql")({"url": f"sqlite:///{tmp_path / 's.db'}"})
    found = {t: propose_key(connector, Stream(name=t, table=t, cursor="updated_at"))
             for t in ("insured", "members", "payments")}
    assert found["insured"].describe() == "proposed: [身份证号] — unique and not null in 3 rows of table insured"
    assert found["members"].columns == ["household_no", "member_no"]
    assert found["payments"].describe() == ("no column or pair of columns is unique and not null in 3 rows of "
                                            "table payments")
    assert not any(p.sampled for p in found.values())


def test_a_declared_key_that_the_data_breaks_is_described(tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    with sqlite3.connect(tmp_path / "s.db") as con:
        con.execute("INSERT INTO members VALUES (NULL, 3, '赵六', '2026-11-04')")
    con.close()
    connector = get_connector("sql")({"url": f"sqlite:///{tmp_path / 's.db'}"})
    check = check_key(connector, Stream(name="members", table="members", primary_key=["household_no"]))
    assert (check.duplicates, check.nulls, check.holds) == (1, 1, False)
    assert check.describe() == ("key [household_no] is not unique and not null in 4 rows of table members: 1 row "
                                "repeats the key value of an earlier row; 1 row has a key column empty")
    assert check_key(connector, Stream(name="members", table="members",
                                       primary_key=["household_no", "member_no"])).nulls == 1


def test_a_large_table_is_checked_on_a_sample_and_says_so(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "big.db") as con:
        con.execute("CREATE TABLE big (person_id INTEGER, updated_at TEXT)")
        con.executemany("INSERT INTO big VALUES (?, '2026-11-01')", ((i,) for i in range(SAMPLE_ROWS + 5)))
    con.close()
    connector = get_connector("sql")({"url": f"sqlite:///{tmp_path / 'big.db'}"})
    proposal = propose_key(connector, Stream(name="big", table="big", cursor="updated_at"))
    assert proposal.sampled and proposal.columns == ["person_id"]
    assert proposal.describe() == ("proposed: [person_id] — unique and not null in a sample of the first 200,000 of "
                                   "200,005 rows of table big")


def test_add_discover_comments_the_proposal_and_the_file_still_validates(departments: Path, tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    added = run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{tmp_path / 's.db'}", "--discover")
    text = (departments / "rsj.yml").read_text(encoding="utf-8")
    assert ("  - name: insured\n    table: insured\n    primary_key: []  # proposed: [身份证号] — unique and not "
            f"null in 3 rows of table insured; {THEN}\n    cursor: updated_at\n") in text
    assert (f"primary_key: []  # proposed: [household_no, member_no] — unique and not null in 3 rows of table members; "
            f"{THEN}\n") in text
    assert (f"primary_key: []  # no column or pair of columns is unique and not null in 3 rows of table payments; "
            f"{ASK}\n") in text
    streams = yaml.safe_load(text)["sources"][0]["streams"]
    assert [s["primary_key"] for s in streams] == [[], [], []]  # proposed, never set
    assert f"{departments / 'rsj.yml'}: stream members has no primary_key; proposed: [household_no, member_no]" in added
    assert "ok" in run_cli("sources", "validate") and "3 streams" in run_cli("sources", "validate")


def test_sources_test_warns_for_each_incremental_stream_without_a_key(departments: Path, tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{tmp_path / 's.db'}", "--discover")
    warnings = [line for line in run_cli("sources", "test", "rsj").splitlines() if line.startswith("warning")]
    path = departments / "rsj.yml"
    assert warnings == [
        (f"warning {path}: stream insured has no primary_key; proposed: [身份证号] — unique and not null in 3 rows of "
        f"table insured; {THEN}"),
        (f"warning {path}: stream members has no primary_key; proposed: [household_no, member_no] — unique and not null "
        f"in 3 rows of table members; {THEN}"),
        (f"warning {path}: stream payments has no primary_key; no column or pair of columns is unique and not null in 3 "
        f"rows of table payments; {ASK}")]


def test_sources_test_warns_about_a_declared_key_with_duplicates_and_not_about_a_good_one(
        departments: Path, tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{tmp_path / 's.db'}", "--stream", "members",
         "--stream", "insured")
    doc = yaml.safe_load((departments / "rsj.yml").read_text(encoding="utf-8"))
    doc["sources"][0]["streams"] = [{"name": "members", "table": "members", "primary_key": ["household_no"]},
                                    {"name": "insured", "table": "insured", "primary_key": ["身份证号"],
                                     "cursor": "updated_at"}]
    (departments / "rsj.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    warnings = [line for line in run_cli("sources", "test", "rsj").splitlines() if line.startswith("warning")]
    assert warnings == [
        (f"warning {departments / 'rsj.yml'}: stream members: key [household_no] is not unique and not null in 3 rows "
        "of table members: 1 row repeats the key value of an earlier row; loads keep one row per key value and "
        "quarantine the rows that conflict with it")]


def test_a_replace_stream_without_a_key_is_not_warned_about(departments: Path, tmp_path: Path) -> None:
    _seed(tmp_path / "s.db")
    run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{tmp_path / 's.db'}", "--stream", "payments")
    assert "warning" not in run_cli("sources", "test", "rsj")  # no cursor: each load replaces the table


def test_add_proposes_a_key_from_the_first_file_of_a_drop_folder(departments: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "名册_2026-11.csv").write_bytes("姓名,身份证号,月发放金额\n张三,511724198001010011,560.00\n"
                                           "张三,511724199002020022,480.00\n".encode("gb18030"))
    (drop / "名册_2026-12.csv").write_bytes("姓名,身份证号,月发放金额\n张三,511724198001010011,560.00\n".encode())
    added = run_cli(*ADD, "--kind", "files", "--location", str(drop), "--stream", "roll:名册_*.csv")
    text = (departments / "rsj.yml").read_text(encoding="utf-8")
    # A drop folder loads file by file (a changed file replaces its own rows): no warning about duplicates.
    assert "primary_key: []  # proposed: [身份证号] — unique and not null in the 2 rows of 名册_2026-11.csv\n" in text
    assert "stream roll has no primary_key; proposed: [身份证号]" in added
    assert "warning" not in run_cli("sources", "test", "rsj")
