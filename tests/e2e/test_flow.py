"""The whole flow on the demo county: counts, catalog, idempotency, and a failed gate keeping the last version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.store import Catalog
from countyhub.demo_run import demo_api, run_demo
from countyhub.flow import FlowReport, run_flow
from countyhub.settings import Settings, load_settings
from demo import Manifest, corrupt_duplicate_ids, load_manifest
from lakehouse import Lake

pytestmark = pytest.mark.e2e
PERSONS = 800
RAW_STREAMS = ("gaj.persons", "gaj.households", "cgj.grids", "cgj.facilities", "cgj.cases", "mzj.subsidy_roll",
               "scjgj.enterprises")


def _fresh_settings(tmp_path_factory: pytest.TempPathFactory, mp: pytest.MonkeyPatch, name: str) -> Settings:
    mp.setenv("COUNTYHUB_HOME", str(tmp_path_factory.mktemp(name) / "home"))
    for var in ("SCJGJ_API_URL", "SCJGJ_API_TOKEN"):  # run_demo sets these; restore them afterwards
        mp.setenv(var, "")
    return load_settings()


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Manifest, FlowReport, FlowReport]]:
    """The demo run twice over the same home, as a user running `make demo` a second time."""
    with pytest.MonkeyPatch.context() as mp:
        settings = _fresh_settings(tmp_path_factory, mp, "twice")
        first = run_demo(settings, persons=PERSONS)
        second = run_demo(settings, persons=PERSONS)
        yield settings, load_manifest(settings.home), first, second


def _count(settings: Settings, table: str) -> int:
    with Lake(settings).reader() as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_shared_datasets_match_what_the_generator_produced(twice) -> None:
    settings, manifest, first, _ = twice
    assert first.ok, [(d.dataset, d.reason) for d in first.datasets]
    for stream in RAW_STREAMS:
        dept, name = stream.split(".")
        assert _count(settings, f"lake.raw_{dept}.{name}") == manifest.counts[stream], stream
    assert _count(settings, "lake.shared.resident_profile") == manifest.counts["gaj.persons"] == PERSONS
    assert _count(settings, "lake.shared.township_overview") == manifest.townships
    with Lake(settings).reader() as con:
        # Subsidy recipients in the mart are exactly the distinct ID numbers on the roll the generator wrote.
        recipients = con.execute("SELECT count(*) FROM lake.shared.resident_profile WHERE receives_subsidy").fetchone()[0]
        roll_ids = con.execute('SELECT count(DISTINCT "身份证号") FROM lake.raw_mzj.subsidy_roll').fetchone()[0]
    assert recipients == roll_ids > 0


def test_second_run_duplicates_nothing_and_bumps_the_version(twice) -> None:
    settings, manifest, first, second = twice
    assert [d.published_version for d in first.datasets] == [1] * len(first.datasets)
    assert [d.published_version for d in second.datasets] == [2] * len(second.datasets)
    assert {d.dataset for d in first.datasets} >= {"shared.resident_profile", "shared.township_overview"}
    assert [load.rows_loaded for load in second.loads] == [load.rows_loaded for load in first.loads]
    with Lake(settings).reader() as con:
        dupes = con.execute("SELECT count(*) - count(DISTINCT id_number) FROM lake.shared.resident_profile").fetchone()[0]
        raw_loads = con.execute("SELECT count(DISTINCT _load_id) FROM lake.raw_gaj.persons").fetchone()[0]
    assert dupes == 0 and raw_loads == 1
    assert _count(settings, "lake.raw_gaj.persons") == manifest.counts["gaj.persons"]
    names = [d["name"] for d in Catalog(settings.catalog_url).datasets()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("query,expected", [
    ("居民综合画像", "shared.resident_profile"),
    ("resident_profile", "shared.resident_profile"),
    ("乡镇", "shared.township_overview"),
    ("enterprises", "raw_scjgj.enterprises"),
])
def test_catalog_finds_the_datasets(twice, query: str, expected: str) -> None:
    settings = twice[0]
    hits = [h["name"] for h in Catalog(settings.catalog_url).search(query, limit=3)]
    assert expected in hits


def test_catalog_entry_carries_owner_gate_and_version(twice) -> None:
    entry = Catalog(twice[0].catalog_url).get("shared.resident_profile")
    assert entry["department_code"] == "dsj" and entry["sharing_type"] == "conditional"
    assert entry["published_version"] == 2 and entry["gate_status"] == "passed"
    assert {c["name"] for c in entry["columns"]} >= {"id_number", "township_code", "receives_subsidy"}


def test_failed_gate_keeps_the_published_version_and_says_why(tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.MonkeyPatch.context() as mp:
        settings = _fresh_settings(tmp_path_factory, mp, "gate")
        good = run_demo(settings, persons=PERSONS)
        assert good.ok
        with Lake(settings).reader() as con:
            before = con.execute("SELECT id_number FROM lake.shared.resident_profile ORDER BY ALL").fetchall()
        corrupt_duplicate_ids(settings.home, n=5)
        with demo_api(settings):  # run the flow over the corrupted sources (run_demo would regenerate them)
            outcomes = {o.dataset: o for o in run_flow(settings).datasets}

    profile = outcomes["shared.resident_profile"]
    assert not profile.gate_passed and "id_number" in profile.reason
    assert profile.published_version == 1 and not profile.published_now
    assert outcomes["shared.township_overview"].gate_passed  # an unrelated dataset is not blocked
    with Lake(settings).reader() as con:
        after = con.execute("SELECT id_number FROM lake.shared.resident_profile ORDER BY ALL").fetchall()
        audit_dupes = con.execute("SELECT count(*) - count(DISTINCT id_number) FROM lake.audit.resident_profile").fetchone()[0]
    assert after == before and audit_dupes > 0
    entry = Catalog(settings.catalog_url).get("shared.resident_profile")
    assert entry["gate_status"] == "failed" and "id_number" in entry["latest_gate"]["reason"]
    assert entry["published_version"] == 1
