"""A third-party connector, installed as pip lays out a package, registers like the built-ins and passes the suite.

The sample package (tests/conformance/plugin_sample) is put on sys.path with a `.dist-info` folder
holding its entry points, which is what `pip install` leaves behind; importlib.metadata finds it
exactly as it finds an installed wheel.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from countyhub.cli.common import console
from countyhub.cli.main import app
from countyhub.connectors import (
    Connector,
    ConnectorError,
    OpenStreamOptions,
    Stream,
    available_kinds,
    check_department,
    get_connector,
)
from countyhub.core.departments import load_department
from countyhub.core.settings import PROJECT_DIR
from countyhub.testing import ConnectorConformance

SAMPLE = Path(__file__).parent / "plugin_sample"
GUIDE = PROJECT_DIR / "docs" / "write-a-connector.md"
# A plugin that declares no options model, as a plugin written before options were typed.
OPEN_PLUGIN = """\
from countyhub.connectors import Connector, ConnectorConfig


class AnyConfig(ConnectorConfig):
    folder: str


class AnyOptionsConnector(Connector):  # no `Options`: every stream key is accepted
    kind = "jsonl_any"
    Config = AnyConfig

    def check(self):
        pass

    def discover(self, streams=None):
        return []

    def read(self, stream, state=None, rejects=None):
        yield from ()
"""
TOKEN = "jsonl-t0ken-never-shown"
ROWS = 120


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = tmp_path_factory.mktemp("site-packages")
    for module in ("countyhub_jsonl", "countyhub_broken"):
        shutil.copy(SAMPLE / f"{module}.py", site)
    (site / "countyhub_open.py").write_text(OPEN_PLUGIN)
    info = site / "countyhub_sample_connectors-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: countyhub-sample-connectors\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[countyhub.connectors]\njsonl = countyhub_jsonl:JsonlConnector\n"
                                           "ftp = countyhub_broken:FtpConnector\n"
                                           "jsonl_any = countyhub_open:AnyOptionsConnector\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        yield site
    for module in ("countyhub_jsonl", "countyhub_broken", "countyhub_open"):
        sys.modules.pop(module, None)


def _export(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 1, 8, 0, 0)
    with (folder / "roster.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write(json.dumps({"person_id": i, "name": f"居民{i}", "subsidy": 300 + i,
                                 "updated_at": (start + timedelta(minutes=i)).isoformat(sep=" ")},
                                ensure_ascii=False) + "\n")
    (folder / "nothing.jsonl").write_text("")
    return folder


def test_a_plugin_kind_is_listed_and_loads_like_a_builtin(plugin: Path) -> None:
    assert {"jsonl", "ftp", "sql"} <= set(available_kinds())
    assert get_connector("jsonl").__module__ == "countyhub_jsonl"


def test_a_plugin_that_fails_to_import_shows_the_original_error(plugin: Path) -> None:
    with pytest.raises(ConnectorError) as failure:
        get_connector("ftp")
    assert str(failure.value) == ("connector kind 'ftp' (countyhub_broken:FtpConnector) failed to import: "
                                  "ModuleNotFoundError(\"No module named 'paramiko_not_installed'\")")


def _department(folder: Path, kind: str, option: str) -> Path:
    path = folder / "tst.yml"
    path.write_text(f"code: tst\nname: 测试局\nname_en: Test\nowner: {{steward: 王工}}\nsources:\n"
                    f"  - name: exports\n    kind: {kind}\n    config: {{folder: /tmp}}\n    streams:\n"
                    f"      - name: roster\n        {option}: roster\n", encoding="utf-8")
    return path


def test_a_plugin_option_is_checked_like_a_builtin_one(plugin: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTYHUB_DEPARTMENTS_DIR", str(tmp_path))
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(console, "width", 300)
    path = _department(tmp_path, "jsonl", "tabel")
    out = CliRunner().invoke(app, ["sources", "validate"])
    assert out.exit_code == 1
    assert (f"{path}:11: field 'sources.0.streams.0.tabel': unknown option for kind 'jsonl' "
            "(did you mean 'table'?)") in out.output
    _department(tmp_path, "jsonl", "table")
    out = CliRunner().invoke(app, ["sources", "validate"])
    assert out.exit_code == 0, out.output


def test_a_plugin_without_an_options_model_accepts_any_option(plugin: Path, tmp_path: Path) -> None:
    assert get_connector("jsonl_any").Options is OpenStreamOptions is Connector.Options
    department = check_department(load_department(_department(tmp_path, "jsonl_any", "tabel")))
    [stream] = department.sources[0].streams
    assert OpenStreamOptions.of(stream).model_extra == {"tabel": "roster"}


def test_a_plugin_that_fails_to_import_is_named_at_its_kind(plugin: Path, tmp_path: Path) -> None:
    path = _department(tmp_path, "ftp", "table")
    with pytest.raises(Exception, match=re.escape(f"{path}:7: field 'sources.0.kind': connector kind 'ftp' "
                                                  "(countyhub_broken:FtpConnector) failed to import")):
        check_department(load_department(path))


def _countyhub_imports(source: str) -> dict[str, set[str]]:
    """{module: names imported from it} for every `from countyhub… import …` in the source."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("countyhub"):
            found.setdefault(node.module, set()).update(a.name for a in node.names)
    return found


def test_the_sample_and_the_guide_use_only_the_public_connector_api() -> None:
    import countyhub.connectors as public

    [example] = re.findall(r"```python\n(# my_package/ftp.py.*?)```", GUIDE.read_text(), re.DOTALL)
    for source in ((SAMPLE / "countyhub_jsonl.py").read_text(), example):
        imports = _countyhub_imports(source)
        assert set(imports) == {"countyhub.connectors"}
        assert imports["countyhub.connectors"] <= set(public.__all__)
    assert "Options = " in example and "(StreamOptions):" in example


class TestPluginConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, plugin: Path, tmp_path: Path) -> Connector:
        return get_connector("jsonl")({"folder": str(_export(tmp_path / "exports", ROWS))})

    @pytest.fixture
    def stream(self) -> Stream:
        return Stream(name="roster", primary_key=["person_id"], cursor="updated_at")

    @pytest.fixture
    def expected_rows(self) -> int:
        return ROWS

    @pytest.fixture
    def empty_stream(self) -> Stream:
        return Stream(name="nothing")

    @pytest.fixture
    def expected_types(self) -> dict[str, pa.DataType]:
        return {"person_id": pa.int64(), "name": pa.string(), "updated_at": pa.timestamp("s")}

    @pytest.fixture
    def failing_connector(self, plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Connector:
        folder = _export(tmp_path / "locked", 3)
        (folder / ".token").write_text("the-right-token")
        monkeypatch.setenv("JSONL_TOKEN", TOKEN)
        return get_connector("jsonl")({"folder": str(folder), "token_env": "JSONL_TOKEN"})

    @pytest.fixture
    def secret_value(self) -> str:
        return TOKEN
