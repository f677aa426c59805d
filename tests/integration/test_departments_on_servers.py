"""The demo household registry served from the real PostgreSQL and MariaDB, loaded through the department file."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from countyhub.core.departments import load_department
from countyhub.core.settings import Settings
from countyhub.demo import copy_sqlite_to, generate
from countyhub.flow.ingest import ingest_department
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import Lake

pytestmark = pytest.mark.integration
SCHEMA = "dept_it"


def _server_copy(url: str, settings: Settings) -> str:
    """Copy the demo SQLite registry into its own schema/database; return the URL a department would use."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        if engine.dialect.name == "postgresql":
            con.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        else:
            con.execute(sa.text(f"DROP DATABASE IF EXISTS {SCHEMA}"))
    copy_sqlite_to(url, settings.home / "demo" / "gaj_household.db", schema=SCHEMA)
    target = sa.engine.make_url(url)
    if engine.dialect.name == "postgresql":
        return target.update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)
    return target.set(database=SCHEMA).render_as_string(hide_password=False)


@pytest.mark.parametrize("server", ["postgres", "mariadb"])
def test_gaj_department_loads_from_a_real_server(request: pytest.FixtureRequest, settings: Settings,
                                                 server: str) -> None:
    manifest = generate(settings.home, persons=1500)
    url = _server_copy(request.getfixturevalue(f"{server}_url"), settings)
    department = load_department(settings.departments_dir / "gaj.yml")
    rt = Runtime(settings, {"GAJ_HOUSEHOLD_URL": url})  # the department file's ${GAJ_HOUSEHOLD_URL}
    results = {r.stream: r.rows_loaded for r in ingest_department(rt, department)}
    assert results == {name: manifest.counts[f"gaj.{name}"]
                       for name in ("persons", "households", "residence_permits", "person_cancellations")}
    with Lake(settings).reader() as con:
        from_server = con.execute(
            "SELECT sum(person_id), count(DISTINCT id_number), max(name) FROM raw_gaj.persons").fetchone()
    with sa.create_engine(f"sqlite:///{settings.home / 'demo' / 'gaj_household.db'}").connect() as src:
        original = src.execute(sa.text("SELECT sum(person_id), count(DISTINCT id_number), max(name) FROM persons")).one()
    assert tuple(from_server) == tuple(original)
