"""Shared fixtures: an isolated countyhub home per test, and the real servers the integration tier needs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from countyhub.core.settings import Settings, load_settings
from countyhub.flow.runtime import Runtime
from countyhub.testing_servers import ObjectStore

POSTGRES_URL = os.environ.get("COUNTYHUB_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("COUNTYHUB_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose home (lake, catalog, demo sources) lives in this test's tmp folder."""
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    return load_settings()


@pytest.fixture
def departments(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty departments folder for this test, where the CLI reads and `sources add` writes department files."""
    from countyhub.cli.common import console

    folder = tmp_path / "departments"
    folder.mkdir()
    monkeypatch.setenv("COUNTYHUB_DEPARTMENTS_DIR", str(folder))
    monkeypatch.setattr(console, "width", 200)  # rich would wrap table cells at CliRunner's 80 columns
    return folder


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    """The runtime a command would build over those settings, in this process's environment."""
    return Runtime(settings, os.environ)


def _server_url(url: str, name: str) -> str:
    import sqlalchemy as sa

    try:
        with sa.create_engine(url).connect() as con:
            con.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        message = f"{name} is not reachable at {url} ({type(exc).__name__}); see STACK.md to start it"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must have the servers: never skip silently there
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _server_url(POSTGRES_URL, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    return _server_url(MARIADB_URL, "MariaDB")


@pytest.fixture
def object_store(tmp_path: Path) -> Iterator[ObjectStore]:
    """An S3-compatible object store (moto_server, its own process) with one empty bucket, for this test only."""
    from countyhub.testing_servers import object_store as start

    with start(log_dir=tmp_path) as store:
        yield store


TIER_FOLDERS = {"integration": "integration", "e2e": "e2e", "browser": "browser", "badinput": "corpus",
                "faults": "faults"}
NOT_FAST = {"integration", "e2e", "browser", "dbt", "slow", "corpus", "faults"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tier markers: a test's folder names its tier; every test left without one is in the fast tier."""
    for item in items:
        folder = Path(str(item.path)).parent.name
        if folder in TIER_FOLDERS:
            item.add_marker(TIER_FOLDERS[folder])
        if not NOT_FAST & {m.name for m in item.iter_markers()}:
            item.add_marker("fast")
