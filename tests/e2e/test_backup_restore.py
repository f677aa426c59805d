"""A demo home backed up and restored into a fresh home answers analysts the same: every shared dataset through
the query API, the catalog's entries, users and grants, and an audit chain that verifies to the same head."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from countyhub.catalog.client import QueryError, query_arrow
from countyhub.cli.demo import run_demo
from countyhub.cli.web import build_app
from countyhub.core.settings import load_settings
from countyhub.flow.runtime import Runtime
from countyhub.sharing import tables as t
from tests.fixtures.cli import run_cli

pytestmark = pytest.mark.e2e
PERSONS = 300


@dataclass
class Homes:
    source: Runtime
    restored: Runtime
    tokens: dict[str, str]  # user name -> API token
    audit: tuple[tuple[int, str | None], ...]  # (entries, problem) and head hash of each, before any query


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homes]:
    """The demo's home, and a fresh home restored from its backup with the `countyhub` commands."""
    root = tmp_path_factory.mktemp("backup")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COUNTYHUB_HOME", str(root / "demo"))
        source = Runtime(load_settings(), os.environ)
        run_demo(source, persons=PERSONS)
        run_cli("backup", str(root / "backup"))
        run_cli("restore", str(root / "backup"), "--home", str(root / "restored"))
        mp.setenv("COUNTYHUB_HOME", str(root / "restored"))
        restored = Runtime(load_settings(), os.environ)
        # The users' tokens are the demo's: only their hashes are in the catalog, restored with it.
        tokens = {line.split()[0]: line.split()[3]
                  for line in (root / "demo" / "demo" / "tokens.txt").read_text().splitlines()}
        audit = tuple((rt.sharing.audit.verify(), rt.sharing.audit.entries(limit=1)[0].hash)
                      for rt in (source, restored))
        yield Homes(source, restored, tokens, audit)


def test_the_audit_chain_verifies_to_the_same_head(homes: Homes) -> None:
    (source_check, source_head), (restored_check, restored_head) = homes.audit
    assert restored_check == source_check and source_check[0] > 0 and source_check[1] is None
    assert restored_head == source_head


def test_catalog_entries_users_and_grants_are_equal(homes: Homes) -> None:
    source, restored = homes.source, homes.restored
    assert restored.catalog.entries() == source.catalog.entries()
    for table in (t.users, t.access_requests, t.grants):
        with source.catalog.engine.connect() as a, restored.catalog.engine.connect() as b:
            before = a.execute(select(table).order_by(table.c.id)).all()
            assert before and b.execute(select(table).order_by(table.c.id)).all() == before, table.name


def _answer(http: TestClient, sql: str, token: str) -> object:
    """What the analysts' client gets for `sql` from a home's catalog API: rows in a fixed order, or the refusal."""
    try:
        table, _ = query_arrow(sql, token, "http://testserver", http=http)
    except QueryError as exc:
        return exc.message
    return table.column_names, sorted(map(repr, table.to_pylist()))


def test_every_shared_dataset_answers_the_same_query(homes: Homes) -> None:
    published = sorted(e["name"] for e in homes.source.catalog.entries() if e["kind"] == "published")
    assert len(published) >= 10
    answered = 0
    with TestClient(build_app(homes.source)) as before, TestClient(build_app(homes.restored)) as after:
        for name in published:
            for who in ("admin", "analyst_mzj"):
                sql = f"SELECT * FROM {name}"
                expected = _answer(before, sql, homes.tokens[who])
                assert _answer(after, sql, homes.tokens[who]) == expected, (name, who)
                answered += not isinstance(expected, str)
    assert answered >= len(published)  # rows came back, not only refusals
