"""A lake that cannot be opened ends a `countyhub` command with one line naming catalog and data, no traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from countyhub.cli.main import main
from countyhub.core.settings import Settings
from countyhub.lakehouse import Lake


def _lake_with_a_table(settings: Settings) -> None:
    with Lake(settings).writer() as con:
        con.execute("CREATE TABLE lake.audit.residents AS SELECT range AS resident_id FROM range(1000)")


def _quality_report_fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureResult:
    """Run `countyhub quality report`, which opens the lake; it must exit 1 with its one-line error."""
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(sys, "argv", ["countyhub", "quality", "report"])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    assert exit_.value.code == 1
    return out


def test_a_lake_whose_data_folder_went_missing_is_one_clear_error(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _lake_with_a_table(settings)
    moved = tmp_path / "moved"
    shutil.move(settings.home, moved)
    shutil.rmtree(moved / "lake" / "data")  # the catalog came along, its Parquet files did not
    monkeypatch.setenv("COUNTYHUB_HOME", str(moved))
    out = _quality_report_fails(monkeypatch, capsys)
    assert (f"the lake's catalog {moved}/lake/metadata.sqlite keeps its Parquet files under {settings.lake_data}, "
            f"but lake_data is {moved}/lake/data/, which does not hold them") in out.out
    assert "COUNTYHUB_LAKE_DATA" in out.out and "Traceback" not in out.out + out.err


def test_a_catalog_that_is_not_a_lake_is_one_clear_error(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = Path(settings.lake_metadata.removeprefix("sqlite:"))
    catalog.parent.mkdir(parents=True)
    catalog.write_bytes(b"not a database, a file someone put here by mistake" * 100)
    out = _quality_report_fails(monkeypatch, capsys)
    assert f"cannot open the lake (catalog {settings.lake_metadata}, data {settings.lake_data})" in out.out
    assert "Traceback" not in out.out + out.err
