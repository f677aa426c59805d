"""A countyhub home moved to another folder, lake data included, keeps working: loads, dbt and the gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from countyhub.core.settings import Settings, load_settings
from countyhub.flow.build import write_profiles
from countyhub.lakehouse import Lake


def test_a_moved_home_opens_its_lake_from_the_new_place(settings: Settings, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with Lake(settings).writer() as con:
        con.execute("CREATE TABLE lake.audit.residents AS SELECT range AS resident_id FROM range(1000)")
    moved = tmp_path / "elsewhere" / "countyhub"
    moved.parent.mkdir()
    shutil.move(settings.home, moved)
    monkeypatch.setenv("COUNTYHUB_HOME", str(moved))
    lake = Lake(load_settings())
    with lake.writer() as con:
        con.execute("INSERT INTO lake.audit.residents VALUES (1000)")
    with lake.reader() as con:
        assert con.execute("SELECT count(*), max(resident_id) FROM lake.audit.residents").fetchone() == (1001, 1000)
        # The files are found under the new folder; the old one is gone, so nothing could have been read from it.
        files = con.execute("SELECT data_file FROM ducklake_list_files('lake', 'residents', schema => 'audit')").fetchall()
    assert files and all(f.startswith(str(moved)) for (f,) in files)
    assert not settings.home.exists()
    # dbt opens the lake through its own profile: it must ask for the same override.
    profile = yaml.safe_load(write_profiles(lake).read_text(encoding="utf-8"))
    assert profile["countyhub"]["outputs"]["lake"]["attach"][0]["options"] == {
        "data_path": f"{moved}/lake/data/", "override_data_path": True}


def test_a_lake_in_place_asks_for_no_override(settings: Settings) -> None:
    lake = Lake(settings)
    with lake.writer() as con:
        con.execute("CREATE TABLE lake.audit.residents AS SELECT 1 AS resident_id")
    assert Lake(settings).attach_options() == {"data_path": settings.lake_data}
