"""The demo flow with nothing on the local disk but the home's scratch: lake metadata and catalog store in PostgreSQL,
lake data in an S3-compatible object store (moto_server), shared datasets read back through the analysts' query API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from countyhub.catalog.access import dataset_info
from countyhub.catalog.client import query_arrow
from countyhub.cli.demo import run_demo
from countyhub.cli.demo_services import read_tokens
from countyhub.cli.web import build_app
from countyhub.core.settings import load_settings
from countyhub.demo import load_manifest
from countyhub.flow.runtime import Runtime
from countyhub.testing_servers import ObjectStore
from tests.fixtures.servers import postgres_database, uvicorn_thread

pytestmark = pytest.mark.integration
PERSONS = 300
TALENT_DATASET = "shared.eligibility_talent_housing_subsidy"


def test_demo_flow_keeps_lake_data_in_the_object_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         postgres_url: str, object_store: ObjectStore) -> None:
    home = tmp_path / "home"
    with postgres_database(postgres_url, "countyhub_s3lake") as lake_db, \
            postgres_database(postgres_url, "countyhub_s3cat") as catalog_db:
        for name, value in {"COUNTYHUB_HOME": str(home),
                            "COUNTYHUB_LAKE_METADATA": f"postgres:dbname={lake_db} host=127.0.0.1 user=root",
                            "COUNTYHUB_CATALOG_URL": f"postgresql+psycopg://root@127.0.0.1:5432/{catalog_db}",
                            **object_store.environ()}.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        assert settings.lake_data == object_store.lake_data and not settings.lake_is_embedded
        runtime = Runtime(settings, os.environ)
        report = run_demo(runtime, persons=PERSONS)
        # At this size the demo county has no recognized talent: that dataset's volume rule fails, as it would on disk.
        no_talents = load_manifest(home).counts["rsj.talents"] == 0
        failed = {d.dataset: d.reason for d in report.datasets if not d.gate_passed}
        assert not report.failures and set(failed) <= ({TALENT_DATASET} if no_talents else set()), failed
        published = {d.dataset: d.rows for d in report.datasets if d.published_version is not None}
        assert published and all(rows for rows in published.values())

        # Each dataset as its owner department's analyst reads it: POST /api/query on the catalog's web app.
        tokens = {(department, role): token for department, role, token in
                  read_tokens(home / "demo" / "tokens.txt").values()}
        with uvicorn_thread(build_app(runtime)) as url:
            for dataset, rows in published.items():
                name = dataset.removeprefix("shared.")
                owner = dataset_info(runtime.catalog.get_entry(f"shared.{name}")).department
                table, _ = query_arrow(f"SELECT count(*) AS n FROM shared.{name}", tokens[(owner, "analyst")], url)
                assert table.column("n").to_pylist() == [rows], name
        runtime.sharing.gateway.close()
        # Every data file the lake records for a shared dataset is an object in the bucket (small tables may be
        # inlined in the catalog and have none).
        with runtime.lake.reader() as con:
            files = {d: [r[0] for r in con.execute("SELECT data_file FROM ducklake_list_files('lake', ?, "
                                                   "schema => 'shared')", [d.removeprefix("shared.")]).fetchall()]
                     for d in published}

    keys = set(object_store.object_keys())
    recorded = [f for found in files.values() for f in found]
    assert recorded and all(f.endswith(".parquet") for f in recorded)
    assert {f.removeprefix(object_store.lake_data) for f in recorded} <= keys, "a recorded file is not in the bucket"
    assert any(k.startswith("raw_gaj/") for k in keys)
    assert not list(home.rglob("*.parquet")), "lake data written under the local home"
