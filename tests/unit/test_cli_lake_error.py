"""A lake that cannot be opened ends a `countyhub` command with one line naming catalog and data, no traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from countyhub.cli import main
from countyhub.settings import Settings
from lakehouse import Lake


def test_a_moved_lake_is_one_clear_error(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with Lake(settings).writer():
        pass
    moved = tmp_path / "moved"
    shutil.move(settings.home, moved)  # the lake's catalog still records its data folder at the old place
    monkeypatch.setenv("COUNTYHUB_HOME", str(moved))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(sys, "argv", ["countyhub", "quality", "report"])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    assert exit_.value.code == 1
    assert f"cannot open the lake (catalog sqlite:{moved}/lake/metadata.sqlite, data {moved}/lake/data" in out.out
    assert "does not match" in out.out and "Traceback" not in out.out + out.err
