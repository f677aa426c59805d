"""Bad input about keys, as departments send it: a table without a key but with updated_at, and a declared key
whose column holds duplicates. Each case asserts the rows loaded and what quarantine and `sources test` say."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from countyhub.connectors import get_connector
from countyhub.core.departments import Department, Stream
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from countyhub.lakehouse.load import load_stream
from tests.fixtures.cli import run_cli

DEPT = Department(code="mzj", name="民政局", name_en="Civil affairs", owner={"steward": "qa"})
ADD = ("sources", "add", "mzj", "--name", "民政局", "--name-en", "Civil affairs", "--steward", "王工")


def _sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as con:
        for statement in statements:
            con.execute(statement)
    con.close()


def _lake(settings: Settings, sql: str) -> list[tuple]:
    with Lake(settings).reader() as con:
        return con.execute(sql).fetchall()


def test_table_without_a_key_but_with_updated_at(settings: Settings, departments: Path, tmp_path: Path) -> None:
    db = tmp_path / "dibao.db"
    _sql(db, "CREATE TABLE recipients (person_code TEXT, name TEXT, amount TEXT, updated_at TEXT)",
         "INSERT INTO recipients VALUES ('P001', '张三', '560', '2026-11-01 08:00:00'), "
         "('P002', '李四', '480', '2026-11-01 08:00:00')")
    added = run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{db}", "--discover")
    path = departments / "mzj.yml"
    advice = ("proposed: [person_code] — unique and not null in 2 rows of table recipients; set it, or incremental "
              "loads append updated rows as duplicates")
    assert f"primary_key: []  # {advice}\n" in path.read_text(encoding="utf-8")
    assert f"warning {path}: stream recipients has no primary_key; {advice}" in added
    tested = run_cli("sources", "test", "mzj")
    assert f"warning {path}: stream recipients has no primary_key; {advice}" in tested

    # What the warning is about, as it happens today when nobody sets the key: the update is a second row.
    assert "read 2 = loaded 2 + quarantined 0" in run_cli("load", "mzj")
    _sql(db, "UPDATE recipients SET amount = '600', updated_at = '2026-12-01 08:00:00' WHERE person_code = 'P001'")
    assert "read 1 = loaded 1 + quarantined 0" in run_cli("load", "mzj")
    assert _lake(settings, "SELECT person_code, name, amount FROM raw_mzj.recipients ORDER BY 1, 3") == [
        ("P001", "张三", "560"), ("P001", "张三", "600"), ("P002", "李四", "480")]

    # With the proposed key set, the next update replaces its row.
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["sources"][0]["streams"][0]["primary_key"] = ["person_code"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert "primary_key" not in run_cli("sources", "test", "mzj")
    run_cli("load", "mzj", "--full-refresh")
    _sql(db, "UPDATE recipients SET amount = '620', updated_at = '2026-12-02 08:00:00' WHERE person_code = 'P001'")
    run_cli("load", "mzj")
    assert _lake(settings, "SELECT person_code, amount FROM raw_mzj.recipients ORDER BY 1") == [
        ("P001", "620"), ("P002", "480")]


def _quarantine(settings: Settings, table: str) -> list[tuple]:
    return [(location, reason, json.loads(values)["name"]) for location, reason, values in _lake(
        settings, f"SELECT location, reason, raw_values FROM quarantine.{table} ORDER BY location, raw_values")]


def test_duplicate_keys_in_a_declared_key_column_of_a_snapshot(settings: Settings, departments: Path,
                                                                tmp_path: Path) -> None:
    db = tmp_path / "roll.db"
    _sql(db, "CREATE TABLE roll (person_code TEXT, name TEXT)",
         "INSERT INTO roll VALUES ('P001', '张三'), ('P001', '张三丰'), ('P002', '李四'), ('P003', '王五'), "
         "('P003', '王五')")  # P001: two people on one key; P003: the same line twice
    run_cli(*ADD, "--kind", "sql", "--location", f"sqlite:///{db}", "--stream", "roll")
    path = departments / "mzj.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["sources"][0]["streams"] = [{"name": "roll", "table": "roll", "primary_key": ["person_code"]}]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert (f"warning {path}: stream roll: key [person_code] is not unique and not null in 5 rows of table roll: "
            "2 rows repeat the key value of an earlier row; loads keep one row per key value and quarantine the rows "
            "that conflict with it") in run_cli("sources", "test", "mzj")

    # The first load settles the keys as every later load does: one P001 row is kept, the other goes to
    # quarantine with the reason; P003's exact copy is no conflict (nothing to choose between): one row.
    assert "snapshot, read 5 = loaded 4 + quarantined 1 (+3 ~0 -0)" in run_cli("load", "mzj")
    kept = _lake(settings, "SELECT person_code, name FROM raw_mzj.roll ORDER BY 1, 2")
    quarantined = _quarantine(settings, "mzj__roll")
    assert len(quarantined) == 1
    location, reason, name = quarantined[0]
    assert (location, reason) == ("key person_code=P001", ("duplicate key person_code=P001: another row with this "
                                  "key was loaded; this one differs"))
    assert sorted([*kept, ("P001", name)]) == [("P001", "张三"), ("P001", "张三丰"), ("P002", "李四"), ("P003", "王五")]
    # The same data keeps the same row: the next load changes nothing and adds nothing to quarantine.
    assert "snapshot, read 5 = loaded 4 + quarantined 1 (+0 ~0 -0)" in run_cli("load", "mzj")
    assert _lake(settings, "SELECT person_code, name FROM raw_mzj.roll ORDER BY 1, 2") == kept
    assert len(_quarantine(settings, "mzj__roll")) == 1


def test_duplicate_keys_in_an_incremental_read(settings: Settings, tmp_path: Path) -> None:
    db = tmp_path / "roll.db"
    _sql(db, "CREATE TABLE roll (person_code TEXT, name TEXT, updated_at TEXT)",
         "INSERT INTO roll VALUES ('P001', '张三', '2026-11-01'), ('P002', '李四', '2026-11-01')")
    stream = Stream(name="roll", table="roll", primary_key=["person_code"], cursor="updated_at")
    connector = get_connector("sql")({"url": f"sqlite:///{db}"})
    lake = Lake(settings)
    load_stream(lake, DEPT, stream, connector)
    _sql(db, "INSERT INTO roll VALUES ('P001', '张三', '2026-11-02'), ('P001', '张三(新)', '2026-11-03'), "
             "('P002', '李四', '2026-11-03'), ('P002', '李四丰', '2026-11-03'), ('P003', '王五', '2026-11-03'), "
             "('P003', '王五', '2026-11-03')")
    result = load_stream(lake, DEPT, stream, connector)
    # Read past the cursor (2026-11-01, read again): P001's older version is superseded by its later one (as
    # an upsert per load would have done); P002 has two different rows at the same time: one is quarantined;
    # P003's two copies are one record.
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (8, 7, 1)
    kept = _lake(settings, "SELECT person_code, name FROM raw_mzj.roll ORDER BY 1")
    [(location, reason, name)] = _quarantine(settings, "mzj__roll")
    assert (location, reason) == ("key person_code=P002", ("duplicate key person_code=P002: another row with this "
                                  "key and the same updated_at was loaded; this one differs"))
    assert kept[0] == ("P001", "张三(新)") and kept[2] == ("P003", "王五") and len(kept) == 3
    assert sorted([kept[1][1], name]) == ["李四", "李四丰"]


def test_the_same_record_in_two_drop_files_is_not_a_conflict(settings: Settings, tmp_path: Path) -> None:
    header = "person_code,name,updated_at\n"
    (tmp_path / "roll_1.csv").write_text(header + "P001,张三,2026-11-01\n", encoding="utf-8")
    stream = Stream(name="roll", pattern="roll_*.csv", primary_key=["person_code"], cursor="updated_at",
                    mode="incremental")
    connector = get_connector("files")({"path": str(tmp_path)})
    lake = Lake(settings)
    load_stream(lake, DEPT, stream, connector)
    (tmp_path / "roll_2.csv").write_text(header + "P001,张三,2026-11-01\nP002,李四,2026-11-02\n", encoding="utf-8")
    (tmp_path / "roll_3.csv").write_text(header + "P002,李四丰,2026-11-02\n", encoding="utf-8")
    result = load_stream(lake, DEPT, stream, connector)
    assert (result.rows_read, result.rows_quarantined) == (3, 1)
    [(location, reason, _)] = _quarantine(settings, "mzj__roll")
    assert location in ("roll_2.csv key person_code=P002", "roll_3.csv key person_code=P002")
    assert reason == ("duplicate key person_code=P002: another row with this key and the same updated_at was "
                      "loaded; this one differs")
    assert _lake(settings, "SELECT person_code FROM raw_mzj.roll ORDER BY 1") == [("P001",), ("P002",)]


def test_a_drop_file_row_with_an_empty_key_is_quarantined(settings: Settings, tmp_path: Path) -> None:
    # The roll's key is (身份证号, 救助类型); a clerk left the assistance type of one line empty. Appended as it is,
    # no later load could ever replace or remove that row.
    lines = ["身份证号,姓名,救助类型", "511724200001010005,张三,最低生活保障", "511724200001020019,李四,",
             "511724200001030022,王五,临时救助"]
    (tmp_path / "roll_1.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    stream = Stream(name="roll", pattern="roll_*.csv", primary_key=["身份证号", "救助类型"])
    result = load_stream(Lake(settings), DEPT, stream, get_connector("files")({"path": str(tmp_path)}))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_inserted) == (3, 2, 1, 2)
    assert _lake(settings, "SELECT 姓名 FROM raw_mzj.roll ORDER BY 1") == [("张三",), ("王五",)]
    [(location, reason, values)] = _lake(settings, "SELECT location, reason, raw_values FROM quarantine.mzj__roll")
    assert location == "roll_1.csv key 身份证号=511724200001020019, 救助类型="
    assert reason == "救助类型: the key is empty; a row without its key cannot be updated or deleted by a later load"
    assert json.loads(values)["姓名"] == "李四"
