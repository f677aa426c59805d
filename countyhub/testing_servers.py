"""Servers tests start and stop themselves: an S3-compatible object store (moto_server) with one bucket."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# moto accepts any key pair; a fixed one lets a test hand the same values to every process it starts.
ACCESS_KEY = "countyhub-test"
SECRET_KEY = "countyhub-test-secret"
REGION = "us-east-1"
START_SECONDS = 30.0


class ObjectStoreError(RuntimeError):
    """The object store did not start, or did not answer, in time."""


@dataclass(frozen=True)
class ObjectStore:
    """A running S3 endpoint with one empty bucket, and the keys to use it."""

    endpoint_url: str  # http://127.0.0.1:<port>
    bucket: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    @property
    def lake_data(self) -> str:
        """The bucket as a lake data path (COUNTYHUB_LAKE_DATA)."""
        return f"s3://{self.bucket}/"

    def environ(self) -> dict[str, str]:
        """The environment a countyhub process needs to keep its lake data in this bucket."""
        return {"COUNTYHUB_LAKE_DATA": self.lake_data, "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": self.region}

    def client(self):  # a boto3 S3 client (boto3 exports no type for it)
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=self.region)

    def object_keys(self, prefix: str = "") -> list[str]:
        """Every object key in the bucket under `prefix`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _moto_server() -> str:
    """The moto_server executable of this interpreter's environment (a venv's bin is often not on PATH)."""
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if not found:
        raise ObjectStoreError("moto_server is not installed: pip install 'moto[server]' (the `test` extra has it)")
    return found


def _wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ObjectStoreError(f"moto_server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=1.0)  # any HTTP answer (moto's root lists buckets) means it is serving
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise ObjectStoreError(f"moto_server did not answer at {url} within {START_SECONDS:.0f} s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own process group: moto's reloader children go too
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def object_store(bucket: str | None = None, log_dir: Path | None = None) -> Iterator[ObjectStore]:
    """Start moto_server in its own process on a free 127.0.0.1 port, create a bucket, stop it when the block ends.

    A separate process rather than moto's in-thread server: DuckDB's httpfs, dbt and Airflow workers then talk to
    it over real HTTP as they would to MinIO or S3, and any process the test starts can reach it. Objects live in
    the server's memory: they are gone when it stops.
    """
    port = free_port()
    store = ObjectStore(endpoint_url=f"http://127.0.0.1:{port}", bucket=bucket or f"lake-{uuid.uuid4().hex[:8]}")
    log = (log_dir or Path(tempfile.gettempdir())) / f"moto-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen([_moto_server(), "-H", "127.0.0.1", "-p", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_answering(store.endpoint_url, process, log)
        store.client().create_bucket(Bucket=store.bucket)
        yield store
    finally:
        _stop(process)
