"""One department that cannot be reached is that department's failure: the others load, the summary says why."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from countyhub.cli.common import console
from countyhub.cli.main import print_summary
from countyhub.connectors.errors import ConnectorError
from countyhub.core.settings import load_settings
from countyhub.flow.run import DepartmentFailure, FlowReport, ingest_all
from countyhub.flow.runtime import Runtime
from tests.unit.test_departments import GOOD


def test_an_unreachable_department_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "departments"
    folder.mkdir()
    db = tmp_path / "ok.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO persons VALUES (?, ?)", [(1, "王芳"), (2, "李伟")])
    # Sorted by file name, the unreachable department comes first: the later one must still load.
    for code, url in (("aaa", "postgresql+psycopg://nobody@127.0.0.1:1/x"), ("bbb", f"sqlite:///{db}")):
        text = GOOD.replace("code: tst", f"code: {code}").replace("sqlite:///{home}/x.db", url)
        (folder / f"{code}.yml").write_text(text, encoding="utf-8")
    environ = {"COUNTYHUB_HOME": str(tmp_path / "home"), "COUNTYHUB_DEPARTMENTS_DIR": str(folder)}
    runtime = Runtime(load_settings(environ=environ), environ)

    failures: list[DepartmentFailure] = []
    loads = ingest_all(runtime, failures=failures)
    assert [(load.table, load.rows_inserted) for load in loads] == [("lake.raw_bbb.persons", 2)]
    assert [f.department for f in failures] == ["aaa"] and "\n" not in failures[0].cause
    assert "registry" in failures[0].cause  # the message names the source

    report = FlowReport(loads=loads, failures=failures)
    assert not report.ok
    with console.capture() as captured:
        print_summary(report)
    assert "department aaa failed to load:" in captured.get() and "Traceback" not in captured.get()
    with pytest.raises(ConnectorError):  # without a list to report into, the first failure still propagates
        ingest_all(runtime)
