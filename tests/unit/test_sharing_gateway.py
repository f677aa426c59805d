"""The query gateway on a real lake: attacks refused with clear messages, masks applied, the connection locked."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.gateway import Gateway, View
from countyhub.sharing.masks import pseudonym
from countyhub.sharing.model import BadRequest, ColumnInfo, DatasetInfo, Forbidden, Principal, SharingError
from countyhub.sharing.policy import decide
from tests.fixtures.sharing_fixtures import PSEUDONYM_KEY, RESIDENT_COLUMNS, build_lake, grant

MZJ = Principal("m", "mzj", "analyst")
RESIDENT = DatasetInfo("shared.resident_profile", "dsj", "conditional",
                       tuple(ColumnInfo(n, c) for n, _, c in RESIDENT_COLUMNS))  # type: ignore[arg-type]
CASES = DatasetInfo("shared.case_files", "cgj", "not_shared", (ColumnInfo("case_id", "public"),))


@pytest.fixture(scope="module")
def lake_people(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, list[dict]]:
    """One lake for the module: the tests only read it."""
    home = tmp_path_factory.mktemp("gateway") / "home"
    lake = Lake(load_settings(environ={"COUNTYHUB_HOME": str(home)}))
    return lake, build_lake(lake)


@pytest.fixture(scope="module")
def gateway(lake_people: tuple[Lake, list[dict]]) -> Iterator[Gateway]:
    gw = Gateway(lake_people[0], PSEUDONYM_KEY, timeout_seconds=1.0)
    yield gw
    gw.close()


@pytest.fixture
def views() -> dict[str, View]:
    access = decide(MZJ, RESIDENT, grant("shared.resident_profile", "mzj", ("township_code",)))
    return {"resident_profile": View(RESIDENT, access)}


DENIED = {"case_files": "not shared: data never leaves cgj"}
ATTACKS = [
    ("SELECT 1; SELECT 2", BadRequest, "send exactly one statement (got 2)"),
    ("SELECT * FROM shared.resident_profile; DROP TABLE x", BadRequest, "send exactly one statement (got 2)"),
    ("ATTACH '/tmp/x.db' AS x", BadRequest, "only SELECT queries are allowed (ATTACH is not)"),
    ("COPY (SELECT * FROM shared.resident_profile) TO '/tmp/out.csv'", BadRequest,
     "only SELECT queries are allowed (COPY is not)"),
    ("INSTALL httpfs", BadRequest, "only SELECT queries are allowed (INSTALL is not)"),
    ("LOAD httpfs", BadRequest, "only SELECT queries are allowed (LOAD is not)"),
    ("PRAGMA database_list", BadRequest, "only SELECT queries are allowed (PRAGMA is not)"),
    ("SET enable_external_access = true", BadRequest, "only SELECT queries are allowed (SET is not)"),
    ("CALL pragma_version()", BadRequest, "only SELECT queries are allowed (CALL is not)"),
    ("SELECT * INTO t FROM shared.resident_profile", BadRequest, "only SELECT queries are allowed (INTO is not)"),
    ("SELECT * FROM read_csv('/etc/passwd')", BadRequest,
     "function 'read_csv' reads files, settings or the system catalog and is not allowed"),
    ("SELECT * FROM read_parquet('/tmp/**/*.parquet')", BadRequest,
     "function 'read_parquet' reads files, settings or the system catalog and is not allowed"),
    ("SELECT * FROM glob('/etc/*')", BadRequest,
     "function 'glob' reads files, settings or the system catalog and is not allowed"),
    ("SELECT * FROM range(10)", BadRequest, "table functions and file readers are not allowed in FROM"),
    ("SELECT * FROM '/etc/passwd'", BadRequest, "file paths are not allowed as tables"),
    ("SELECT current_setting('threads')", BadRequest, "function 'current_setting' reads files"),
    ("SELECT read_text('/etc/hostname')", BadRequest, "function 'read_text' reads files"),
    ("SELECT * FROM duckdb_settings()", BadRequest, "function 'duckdb_settings' reads files"),
    ("SELECT * FROM information_schema.tables", BadRequest, "system catalogs are not queryable"),
    ("SELECT * FROM raw_gaj.persons", Forbidden, "zone 'raw_gaj' is the platform's own and not queryable here"),
    ("SELECT * FROM lake.shared.resident_profile", BadRequest, "three-part names are not allowed ('lake'…)"),
    ('SELECT * FROM "shared"."case_files"', Forbidden, "shared.case_files: not shared: data never leaves cgj"),
    ("SELECT * FROM shared./* hi */case_files", Forbidden, "shared.case_files: not shared: data never leaves cgj"),
    ('SELECT * FROM "SHARED"."Case_Files"', Forbidden, "shared.case_files: not shared: data never leaves cgj"),
    ("WITH c AS (SELECT * FROM raw_gaj.persons) SELECT * FROM c", Forbidden, "zone 'raw_gaj'"),
    ("WITH c AS (SELECT 1) SELECT * FROM shared.resident_profile, (SELECT * FROM shared.case_files)", Forbidden,
     "shared.case_files: not shared"),
    ("SELECT (SELECT count(*) FROM audit.resident_profile)", Forbidden, "zone 'audit'"),
    ("SELECT * FROM c", BadRequest, "unknown table 'c'"),
    ("SELECT * FROM shared.nothing_here", BadRequest, "no shared dataset named 'nothing_here'"),
    ("SELECT * FROM shared.resident_profile AT (VERSION => 1)", BadRequest, "time travel"),
    ("SELECT * FROM (SELECT 1) t, unnest([1, 2])", BadRequest, "table functions are not allowed in FROM"),
    ("SELECT _countyhub_pk_0('511724199003071234')", BadRequest, "function '_countyhub_pk_0'"),
    ("SELECT 'x' FROM shared.resident_profile WHERE '" + "a" * 20_001 + "' = ''", BadRequest,
     "the SQL is 20054 characters; the limit is 20000"),
    ("SELEC * FROM shared.resident_profile", BadRequest, "cannot parse the SQL"),
    ("SELECT 'unterminated", BadRequest, "cannot parse the SQL"),
]


@pytest.mark.parametrize(("sql", "error", "message"), ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_attack_is_refused_with_a_clear_message(gateway: Gateway, views: dict[str, View], sql: str,
                                                error: type[SharingError], message: str) -> None:
    with pytest.raises(error) as caught:
        gateway.query(sql, views, denied=DENIED)
    assert message in caught.value.message
    assert sql not in caught.value.message or len(sql) < 12


def test_slow_query_is_interrupted_at_the_time_limit(gateway: Gateway, views: dict[str, View]) -> None:
    sql = ("SELECT count(*) FROM shared.resident_profile a, shared.resident_profile b, shared.resident_profile c, "
           "shared.resident_profile d, shared.resident_profile e, shared.resident_profile f")
    with pytest.raises(BadRequest, match=r"query took longer than 1 s"):
        gateway.query(sql, views)
    assert gateway.query("SELECT count(*) FROM shared.resident_profile", views).rows == [(60,)]  # still serving


def test_query_returns_masked_columns_pseudonym_and_truncation(gateway: Gateway, views: dict[str, View],
                                                               lake_people: tuple[Lake, list[dict]]) -> None:
    first = lake_people[1][0]
    result = gateway.query("SELECT r.id_number, name, phone, township_code, person_key "
                           "FROM shared.resident_profile r LIMIT 1", views)
    assert result.columns == ["id_number", "name", "phone", "township_code", "person_key"]
    id_number, name, phone, township, key = result.rows[0]
    assert id_number == first["id_number"][:6] + "********" + first["id_number"][-4:]
    assert name == first["name"][0] + "**"
    assert phone == first["phone"][:3] + "****" + first["phone"][-4:]
    assert township == first["township_code"]  # granted, public anyway
    assert key == pseudonym(PSEUDONYM_KEY, first["id_number"])
    limited = gateway.query("SELECT township_code FROM shared.resident_profile", views, limit=5)
    assert len(limited.rows) == 5 and limited.truncated
    whole = gateway.query("SELECT shared.resident_profile.gender FROM shared.resident_profile", views, limit=60)
    assert len(whole.rows) == 60 and not whole.truncated


def test_masked_values_cannot_be_filtered_on_raw_values(gateway: Gateway, views: dict[str, View],
                                                        lake_people: tuple[Lake, list[dict]]) -> None:
    raw = lake_people[1][0]["id_number"]
    assert gateway.query(f"SELECT count(*) FROM shared.resident_profile WHERE id_number = '{raw}'",
                         views).rows == [(0,)]


def test_columns_the_catalog_does_not_list_are_not_served(gateway: Gateway, views: dict[str, View]) -> None:
    with pytest.raises(BadRequest, match="not_in_catalog"):
        gateway.query("SELECT not_in_catalog FROM shared.resident_profile", views)


def test_rows_page_with_columns_and_offset(gateway: Gateway, views: dict[str, View],
                                           lake_people: tuple[Lake, list[dict]]) -> None:
    people = lake_people[1]
    page = gateway.rows(views["resident_profile"], ["township_code", "gender"], limit=3, offset=10)
    assert page.columns == ["township_code", "gender"]
    assert page.rows == [(p["township_code"], p["gender"]) for p in people[10:13]] and page.truncated
    with pytest.raises(BadRequest, match="unknown columns: 'not_in_catalog'"):
        gateway.rows(views["resident_profile"], ["not_in_catalog"], 3, 0)


def test_the_connection_itself_is_locked_down(gateway: Gateway, lake_people: tuple[Lake, list[dict]],
                                              views: dict[str, View]) -> None:
    """Defence in depth: even SQL that got past the check could not read other zones' files or unlock."""
    gateway.query("SELECT 1 FROM shared.resident_profile LIMIT 1", views)
    con = gateway._cursor("shared")
    data = lake_people[0].settings.lake_data.rstrip("/")
    try:
        for sql in (f"SELECT * FROM read_parquet('{data}/raw_gaj/**/*.parquet')", "SELECT * FROM read_csv('/etc/passwd')",
                    "SET enable_external_access = true", "SET lock_configuration = false", "LOAD fts"):  # json is built in
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE lake.shared.x AS SELECT 1")  # the lake is attached READ_ONLY
        assert con.execute("SELECT current_setting('lock_configuration')").fetchone()[0] is True
    finally:
        con.close()


def test_raw_zone_rows_for_an_engineer_through_the_platform_scope(gateway: Gateway) -> None:
    raw = DatasetInfo("raw_gaj.persons", "gaj", "conditional",
                      (ColumnInfo("person_id", "internal"), ColumnInfo("id_number", "sensitive")))
    view = View(raw, decide(Principal("e", "mzj", "engineer"), raw, None))
    page = gateway.rows(view, ["person_id", "id_number"], 2, 0)
    assert page.rows[0][0] == 1 and page.rows[0][1].count("*") == 8


def test_sample_pivot_and_qualified_columns_survive_the_rewrite(gateway: Gateway, views: dict[str, View]) -> None:
    sampled = gateway.query("SELECT count(*) FROM shared.resident_profile USING SAMPLE 100%", views)
    assert sampled.rows == [(60,)]
    pivot = gateway.query("SELECT * FROM (SELECT gender FROM shared.resident_profile) PIVOT (count(*) FOR gender IN "
                          "('男', '女'))", views)
    assert sum(pivot.rows[0]) == 60
    joined = gateway.query("SELECT count(*) FROM shared.resident_profile r JOIN shared.resident_profile s "
                           "ON r.person_key = s.person_key", views)
    assert joined.rows == [(60,)]  # the pseudonym joins one person to itself, and only to itself
