"""Onboarding from the command line: `sources add` scaffolds a valid file, `sources test` lists what it found,
`load` loads it and says what it did; the guide's steps, run as a new engineer would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml
from typer.testing import CliRunner

from countyhub.cli.main import app
from countyhub.connectors.files import FilesStreamOptions
from countyhub.core.departments import load_department
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake
from tests.fixtures.cli import run_cli


def test_a_drop_folder_source_from_add_to_load(settings: Settings, departments: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "名册_2026-11.csv").write_bytes("身份证号,姓名,月发放金额\n511724199901010013,张三,560.00\n"
                                           "511724199901010021,李四,480.00\n".encode("gb18030"))
    run_cli("sources", "add", "rsj", "--name", "人社局", "--name-en", "Human resources", "--steward", "王工",
         "--kind", "files", "--source", "drops", "--location", str(drop), "--stream", "roll:名册_*.csv")
    department = load_department(departments / "rsj.yml")
    [stream] = department.sources[0].streams
    assert (stream.name, FilesStreamOptions.of(stream).pattern) == ("roll", "名册_*.csv")

    tested = run_cli("sources", "test", "rsj")
    line = next(x for x in tested.splitlines() if " roll " in x)
    assert "files" in line and "not found" not in line and "~2" in line  # rows the next load takes, estimated

    loaded = run_cli("load", "rsj")
    assert "lake.raw_rsj.roll: files, read 2 = loaded 2 + quarantined 0 (+2 ~0 -0)" in loaded
    with Lake(settings).reader() as con:
        assert con.execute('SELECT "姓名" FROM raw_rsj.roll ORDER BY 1').fetchall() == [("张三",), ("李四",)]
    again = run_cli("load", "rsj")  # the same file, byte for byte: not read again
    assert "read 0 = loaded 0" in again


def test_sources_test_says_why_a_drop_folder_stream_is_missing(departments: Path, tmp_path: Path) -> None:
    run_cli("sources", "add", "rsj", "--name", "人社局", "--name-en", "Human resources", "--steward", "王工",
         "--kind", "files", "--location", str(tmp_path), "--stream", "roll:名册_*.csv")
    tested = run_cli("sources", "test", "rsj")
    assert "not found" in tested
    assert "no file matches '名册_*.csv'" in tested and str(tmp_path) in tested.replace("\n", "")


def test_add_discovers_tables_keys_and_cursor_of_a_database(departments: Path, tmp_path: Path) -> None:
    db = tmp_path / "social.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE insured (person_id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT)")
        con.execute("INSERT INTO insured VALUES (1, '张三', '2026-11-01 08:00:00')")
    con.close()
    run_cli("sources", "add", "rsj", "--name", "人社局", "--name-en", "Human resources", "--steward", "王工",
         "--kind", "sql", "--location", f"sqlite:///{db}", "--discover")
    doc = yaml.safe_load((departments / "rsj.yml").read_text(encoding="utf-8"))
    assert doc["sources"][0]["streams"] == [
        {"name": "insured", "table": "insured", "primary_key": ["person_id"], "cursor": "updated_at"}]
    assert "read 1 = loaded 1" in run_cli("load", "rsj")


def test_add_refuses_to_overwrite_and_names_the_missing_flag(departments: Path) -> None:
    out = CliRunner().invoke(app, ["sources", "add", "rsj", "--kind", "files", "--location", "/tmp"])
    assert out.exit_code != 0 and "--name is required" in out.output
    assert not (departments / "rsj.yml").exists()

