"""The catalog and sharing stores on a fresh PostgreSQL database, opened by several processes at once."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.fixtures.servers import postgres_database

pytestmark = pytest.mark.integration
OPEN = """
import sys, time
import sqlalchemy as sa
from countyhub.catalog.store import Catalog
from countyhub.sharing.tables import upgrade
while time.time() < float(sys.argv[2]):  # start together
    pass
Catalog(sys.argv[1])
upgrade(sa.create_engine(sys.argv[1]))
"""


def test_six_processes_opening_a_fresh_store_at_once_all_get_it(postgres_url: str, tmp_path) -> None:
    """Airflow's gates on several workers each open the catalog store of a new deployment: seen failing with
    "duplicate key value violates unique constraint pg_type_typname_nsp_index" when two created its tables."""
    import time

    with postgres_database(postgres_url, "countyhub_stores") as name:
        url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        start = str(time.time() + 4)
        openers = [subprocess.Popen([sys.executable, "-c", OPEN, url, start], stderr=subprocess.PIPE, text=True)
                   for _ in range(6)]
        results = [(o.wait(timeout=120), o.stderr.read()) for o in openers]
        assert [code for code, _ in results] == [0] * 6, [err[-1500:] for _, err in results]
        with sa.create_engine(url).connect() as con:
            tables = {r[0] for r in con.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
        assert {"catalog_datasets", "catalog_gate_runs", "sharing_grants"} <= tables, tables
