"""The fault trials' county, seeded once per test session (one full run) and copied back before each trial."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import County


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    return County(tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="session")
def servers_county(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, mariadb_url: str) -> Iterator[County]:
    """The county whose departments read PostgreSQL, MariaDB and a local API (their tables dropped at the end)."""
    from tests.faults.servers import server_county

    with server_county(tmp_path_factory.mktemp("faults-servers")) as county:
        yield county
