"""Key proposals counted in the real PostgreSQL and MariaDB: `sources add --discover` comments them, `sources test` warns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from countyhub.connectors import Stream, get_connector
from countyhub.connectors.keys import check_key
from tests.fixtures.cli import run_cli
from tests.fixtures.servers import mariadb_database, postgres_database

pytestmark = pytest.mark.integration
THEN = "set it, or incremental loads append updated rows as duplicates"
ASK = "ask the department which columns identify a row and set them, or incremental loads append updated rows as duplicates"


@pytest.fixture(params=["postgres", "mariadb"])
def source_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database holding three tables without a primary key (discover lists every table of it)."""
    server = request.getfixturevalue(f"{request.param}_url")
    with (postgres_database(server, "ch_keys") if request.param == "postgres" else mariadb_database(server, "ch_keys")) as name:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        _seed(url)
        yield url


def _seed(url: str) -> None:
    meta = sa.MetaData()
    insured = sa.Table("insured", meta, sa.Column("姓名", sa.String(20)), sa.Column("身份证号", sa.String(18)),
                       sa.Column("备注", sa.Text), sa.Column("updated_at", sa.DateTime))
    members = sa.Table("members", meta, sa.Column("household_no", sa.String(10)), sa.Column("member_no", sa.Integer),
                       sa.Column("name", sa.String(20)), sa.Column("updated_at", sa.DateTime))
    payments = sa.Table("payments", meta, sa.Column("town", sa.String(20)), sa.Column("amount_code", sa.String(4)),
                        sa.Column("updated_at", sa.DateTime))
    engine = sa.create_engine(url)
    with engine.begin() as con:
        meta.create_all(con)
        con.execute(insured.insert(), [
            {"姓名": "张三", "身份证号": "511724198001010011", "备注": "一", "updated_at": "2026-11-01 08:00:00"},
            {"姓名": "李四", "身份证号": "511724199002020022", "备注": "二", "updated_at": "2026-11-01 08:00:00"},
            {"姓名": "王五", "身份证号": "511724197503030033", "备注": "三", "updated_at": "2026-11-02 08:00:00"}])
        con.execute(members.insert(), [
            {"household_no": "H001", "member_no": 1, "name": "张三", "updated_at": "2026-11-01 08:00:00"},
            {"household_no": "H001", "member_no": 2, "name": "李四", "updated_at": "2026-11-01 08:00:00"},
            {"household_no": "H002", "member_no": 1, "name": "张三", "updated_at": "2026-11-01 08:00:00"}])
        con.execute(payments.insert(), [
            {"town": "竹阳", "amount_code": "A", "updated_at": "2026-11-01 08:00:00"},
            {"town": "竹阳", "amount_code": "A", "updated_at": "2026-11-02 08:00:00"},
            {"town": "庙坝", "amount_code": "B", "updated_at": "2026-11-03 08:00:00"}])
    engine.dispose()


def test_discover_proposes_keys_counted_in_the_server_and_sources_test_warns(departments: Path,
                                                                             source_url: str) -> None:
    added = run_cli("sources", "add", "rsj", "--name", "人社局", "--name-en", "Human resources", "--steward", "王工",
                 "--kind", "sql", "--location", source_url, "--discover")
    path = departments / "rsj.yml"
    text = path.read_text(encoding="utf-8")
    expected = {
        "insured": f"proposed: [身份证号] — unique and not null in 3 rows of table insured; {THEN}",
        "members": f"proposed: [household_no, member_no] — unique and not null in 3 rows of table members; {THEN}",
        "payments": f"no column or pair of columns is unique and not null in 3 rows of table payments; {ASK}",
    }
    for name, advice in expected.items():
        assert f"  - name: {name}\n    table: {name}\n    primary_key: []  # {advice}\n    cursor: updated_at\n" in text
        assert f"{path}: stream {name} has no primary_key; {advice}" in added
    assert [s["primary_key"] for s in yaml.safe_load(text)["sources"][0]["streams"]] == [[], [], []]
    assert f"ok {path}: rsj 人社局 — 1 sources, 3 streams" in run_cli("sources", "validate")

    tested = run_cli("sources", "test", "rsj").splitlines()
    warnings = sorted(line for line in tested if line.startswith("warning") and "primary_key" in line)
    assert warnings == [f"warning {path}: stream {name} has no primary_key; {advice}" for name, advice in expected.items()]


def test_a_declared_key_with_duplicates_is_found_in_the_server(source_url: str) -> None:
    connector = get_connector("sql")({"url": source_url})
    broken = check_key(connector, Stream(name="members", table="members", primary_key=["household_no"]))
    assert (broken.rows, broken.duplicates, broken.nulls) == (3, 1, 0)
    assert check_key(connector, Stream(name="members", table="members",
                                       primary_key=["household_no", "member_no"])).holds
