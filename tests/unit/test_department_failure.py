"""One department that cannot be reached is that department's failure: the others load, the summary says why, and
`countyhub demo` still serves the rest of the county but exits 2."""

from __future__ import annotations

import importlib
import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.main import app, print_summary
from countyhub.connectors.errors import ConnectorError
from countyhub.core.settings import Settings, load_settings
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("failed", [True, False])
@pytest.mark.parametrize("serve", [True, False])
def test_demo_serves_the_rest_of_the_county_and_exits_2_after_a_failure(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, failed: bool, serve: bool) -> None:
    cause = "departments/gaj.yml: source household_registry: cannot connect: Connection refused"
    report = FlowReport(failures=[DepartmentFailure("gaj", cause)] if failed else [])
    monkeypatch.setattr("countyhub.cli.demo.run_demo", lambda *args, **kwargs: report)
    served: list[int] = []

    def stopped_with_ctrl_c(app: object, host: str, port: int) -> None:
        served.append(port)
        console.print("(serving)")
        raise KeyboardInterrupt  # what uvicorn re-raises once it has shut down on Ctrl-C

    # By module: the package countyhub.catalog exports the function under the module's name.
    monkeypatch.setattr(importlib.import_module("countyhub.catalog.serve"), "serve", stopped_with_ctrl_c)
    monkeypatch.setattr(console, "width", 300)
    port = _free_port()
    out = CliRunner().invoke(app, ["demo", "--port", str(port)] if serve else ["demo", "--no-serve"])
    assert out.exit_code == (2 if failed else 0), out.output
    assert served == ([port] if serve else [])
    assert ("department gaj failed to load: " + cause in out.output) is failed
    assert "Traceback" not in out.output and "error: interrupted" not in out.output
    if serve and failed:  # the failure is printed before the catalog is served, not lost behind it
        assert out.output.index("failed to load") < out.output.index("(serving)") < out.output.index("catalog stopped")
