"""A third-party connector, installed as pip lays out a package, registers like the built-ins and passes the suite.

The sample package (tests/conformance/plugin_sample) is put on sys.path with a `.dist-info` folder
holding its entry points, which is what `pip install` leaves behind; importlib.metadata finds it
exactly as it finds an installed wheel.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from countyhub.connectors import Connector, ConnectorError, available_kinds, get_connector
from countyhub.core.departments import Stream
from countyhub.testing import ConnectorConformance

SAMPLE = Path(__file__).parent / "plugin_sample"
TOKEN = "jsonl-t0ken-never-shown"
ROWS = 120


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    site = tmp_path_factory.mktemp("site-packages")
    for module in ("countyhub_jsonl", "countyhub_broken"):
        shutil.copy(SAMPLE / f"{module}.py", site)
    info = site / "countyhub_sample_connectors-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: countyhub-sample-connectors\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[countyhub.connectors]\njsonl = countyhub_jsonl:JsonlConnector\n"
                                           "ftp = countyhub_broken:FtpConnector\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        yield site
    for module in ("countyhub_jsonl", "countyhub_broken"):
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
