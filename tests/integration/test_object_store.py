"""The test object store (moto_server) speaks S3 to DuckDB's httpfs, and the lake keeps its Parquet files there."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from countyhub.core.extensions import extension_config
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.testing_servers import ObjectStore

pytestmark = pytest.mark.integration


def test_httpfs_writes_and_reads_parquet_in_the_bucket(object_store: ObjectStore, tmp_path: Path) -> None:
    con = duckdb.connect(config=extension_config(tmp_path / "extensions"))
    con.execute("LOAD httpfs")
    con.execute("CREATE SECRET s (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, USE_SSL false, URL_STYLE 'path')",
                [object_store.access_key, object_store.secret_key, object_store.region,
                 object_store.endpoint_url.removeprefix("http://")])
    url = f"s3://{object_store.bucket}/probe/numbers.parquet"
    con.execute(f"COPY (SELECT range AS i FROM range(1000)) TO '{url}' (FORMAT parquet)")
    assert object_store.object_keys() == ["probe/numbers.parquet"]
    assert con.execute(f"SELECT count(*), sum(i) FROM read_parquet('{url}')").fetchone() == (1000, 499500)


def test_the_lake_keeps_its_files_in_the_bucket(object_store: ObjectStore, tmp_path: Path) -> None:
    environ = {"COUNTYHUB_HOME": str(tmp_path / "home"), **object_store.environ()}
    settings = load_settings(environ=environ)
    with pytest.MonkeyPatch.context() as mp:  # the keys are secrets: the lake resolves them from the environment
        for name, value in environ.items():
            mp.setenv(name, value)
        with Lake(settings).writer() as con:
            con.execute("CREATE TABLE lake.shared.numbers AS SELECT range AS i FROM range(5000)")
        with Lake(settings).reader() as con:
            assert con.execute("SELECT count(*) FROM lake.shared.numbers").fetchone()[0] == 5000
    parquet = [k for k in object_store.object_keys() if k.endswith(".parquet")]
    assert parquet and all(k.startswith("shared/numbers/") for k in parquet)
    assert not list((tmp_path / "home").rglob("*.parquet"))
