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

DEPARTMENT = """\
code: {code}
name: 测试局{code}
name_en: Test Bureau {code}
owner:
  steward: 数据管理员
sources:
  - name: registry
    kind: sql
    config:
      url: "{url}"
    streams:
      - name: persons
        primary_key: [person_id]
"""


def test_an_unreachable_department_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "departments"
    folder.mkdir()
    db = tmp_path / "ok.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE persons (person_id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO persons VALUES (?, ?)", [(1, "王芳"), (2, "李伟")])
    # Sorted by file name, the unreachable department comes first: the later one must still load.
    (folder / "aaa.yml").write_text(DEPARTMENT.format(code="aaa", url="postgresql+psycopg://nobody@127.0.0.1:1/x"),
                                    encoding="utf-8")
    (folder / "bbb.yml").write_text(DEPARTMENT.format(code="bbb", url=f"sqlite:///{db}"), encoding="utf-8")
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
