"""GET /api/datasets/{name}/rows and POST /api/query over a real lake, real tokens, list-backed grants and audit."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete

from countyhub.catalog import Catalog
from countyhub.catalog.api_data import add_data_routes
from countyhub.catalog.auth import add_error_handlers
from countyhub.catalog.client import QueryError, query
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing import tables as t
from countyhub.sharing.masks import pseudonym
from countyhub.sharing.model import AuditEntry
from tests.fixtures.sharing_fixtures import PSEUDONYM_KEY, build_lake, grant, real_sharing, register, write_grant

ROLES = {"dsj": ("dsj", "analyst"), "mzj": ("mzj", "analyst"), "mzj_eng": ("mzj", "engineer"),
         "mzj_admin": ("mzj", "admin")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    home = tmp_path_factory.mktemp("api_data") / "home"
    settings = load_settings(environ={"COUNTYHUB_HOME": str(home)})
    lake, catalog = Lake(settings), Catalog(settings.catalog_url)
    people = build_lake(lake)
    register(catalog)
    sharing = real_sharing(catalog, lake, query_seconds=2.0)
    tokens = {key: sharing.users.add(key, dept, role)[1] for key, (dept, role) in ROLES.items()}
    app = FastAPI()
    app.state.sharing = sharing
    add_error_handlers(app)
    add_data_routes(app, catalog)
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, sharing=sharing, tokens=tokens, people=people)
    sharing.gateway.close()


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    """The world with no grants, and the audit log's entries so far set aside (see `audited`)."""
    with world.sharing.engine.begin() as con:
        con.execute(delete(t.grants))
    world.sharing.audit.flush()
    world.audit_mark = max((e.id for e in world.sharing.audit.entries(limit=1)), default=0)
    return world


def audited(w: SimpleNamespace) -> list[AuditEntry]:
    """The audit entries this test's calls wrote, oldest first (the real hash-chained log, flushed)."""
    w.sharing.audit.flush()
    return [e for e in reversed(w.sharing.audit.entries(limit=1000)) if e.id > w.audit_mark]


def auth(w: SimpleNamespace, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.tokens[who]}"}


def raw_values(w: SimpleNamespace) -> list[str]:
    """Every unmasked sensitive value of the resident profile: none may appear in another department's output."""
    return [v for p in w.people for v in (p["id_number"], p["phone"], p["name"])]


def test_no_token_is_401(w: SimpleNamespace) -> None:
    assert w.client.get("/api/datasets/shared.township_overview/rows").status_code == 401
    assert w.client.post("/api/query", json={"sql": "SELECT 1"}).status_code == 401
    bad = {"Authorization": "Bearer chub_abc_" + "x" * 30}
    assert w.client.post("/api/query", json={"sql": "SELECT 1"}, headers=bad).status_code == 401


def test_conditional_without_grant_is_403_with_the_reason(w: SimpleNamespace) -> None:
    got = w.client.get("/api/datasets/shared.resident_profile/rows", headers=auth(w, "mzj"))
    assert got.status_code == 403
    assert got.json() == {"detail": "conditional dataset; no approved grant for department mzj"}
    got = w.client.post("/api/query", json={"sql": "SELECT count(*) FROM shared.resident_profile"},
                        headers=auth(w, "mzj_admin"))
    assert got.status_code == 403  # an admin of another department has no bypass
    assert got.json()["detail"] == "shared.resident_profile: conditional dataset; no approved grant for department mzj"
    assert audited(w) == []


def test_owner_reads_unmasked(w: SimpleNamespace) -> None:
    got = w.client.get("/api/datasets/shared.resident_profile/rows?limit=2", headers=auth(w, "dsj"))
    assert got.status_code == 200
    body = got.json()
    assert body["rows"][0][0] == w.people[0]["id_number"] and body["masked"] == []


def test_granted_department_never_sees_masked_values_unmasked(w: SimpleNamespace) -> None:
    gid = write_grant(w.sharing, grant("shared.resident_profile", "mzj", ("township_code",)))
    rows = w.client.get("/api/datasets/shared.resident_profile/rows?limit=1000", headers=auth(w, "mzj"))
    sql = {"sql": "SELECT *, upper(id_number) AS again FROM shared.resident_profile ORDER BY person_key"}
    answered = w.client.post("/api/query", json=sql, headers=auth(w, "mzj"))
    csv = w.client.get("/api/datasets/shared.resident_profile/rows?format=csv&limit=1000", headers=auth(w, "mzj"))
    assert rows.status_code == answered.status_code == csv.status_code == 200
    for response in (rows, answered, csv):
        text = response.content.decode()
        leaked = [v for v in raw_values(w) if v in text]
        assert leaked == []
    first = w.people[0]
    assert rows.json()["rows"][0][:2] == [first["id_number"][:6] + "********" + first["id_number"][-4:],
                                          first["name"][0] + "**"]
    assert rows.json()["masked"] == ["birth_date", "id_number", "monthly_subsidy_amount", "name", "phone"]
    assert len(answered.json()["rows"]) == 60 and answered.json()["truncated"] is False
    keys = {r[answered.json()["columns"].index("person_key")] for r in answered.json()["rows"]}
    assert pseudonym(PSEUDONYM_KEY, first["id_number"]) in keys
    actions = [(e.action, e.dataset, e.grant_id, e.rows, e.purpose) for e in audited(w)]
    assert actions == [("read_rows", "shared.resident_profile", gid, 60, "低保资格核验"),
                       ("query", "shared.resident_profile", gid, 60, "低保资格核验"),
                       ("download", "shared.resident_profile", gid, 60, "低保资格核验")]
    assert audited(w)[1].columns[-1] == "again"


def test_unconditional_masks_for_other_departments_and_secret_is_redacted(w: SimpleNamespace) -> None:
    got = w.client.get("/api/datasets/shared.township_overview/rows?columns=township_name,head_phone,"
                       "office_address,pin", headers=auth(w, "mzj"))
    assert got.status_code == 200
    assert got.json()["rows"] == [["竹阳街道", "138****5678", "四川省达州市大竹县竹阳街道", "******"],
                                  ["东柳街道", "139****4321", "大竹县东柳街道", "******"],
                                  ["观音镇", None, "大竹县观音镇", None],
                                  ["川主乡", "135****1111", "川主乡", "******"]]


def test_not_shared_and_platform_zones(w: SimpleNamespace) -> None:
    got = w.client.get("/api/datasets/shared.case_files/rows", headers=auth(w, "mzj"))
    assert (got.status_code, got.json()["detail"]) == (403, "not shared: data never leaves cgj")
    got = w.client.get("/api/datasets/raw_gaj.persons/rows", headers=auth(w, "mzj"))
    assert (got.status_code, got.json()["detail"]) == (403, "zone raw_gaj is readable by engineers and admins only")
    got = w.client.get("/api/datasets/raw_gaj.persons/rows?limit=1", headers=auth(w, "mzj_eng"))
    assert got.status_code == 200 and got.json()["rows"][0][1].count("*") == 8
    assert w.client.get("/api/datasets/shared.nope/rows", headers=auth(w, "mzj")).status_code == 404


def test_bad_sql_is_400_without_echoing_it(w: SimpleNamespace) -> None:
    sql = "SELECT '<script>' FROM shared.township_overview; ATTACH 'x' AS y"
    got = w.client.post("/api/query", json={"sql": sql}, headers=auth(w, "mzj"))
    assert got.status_code == 400 and got.json()["detail"] == "send exactly one statement (got 2)"
    got = w.client.post("/api/query", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"}, headers=auth(w, "mzj"))
    assert got.status_code == 400 and "<script>" not in got.text and "/etc/passwd" not in got.text


def test_limits(w: SimpleNamespace) -> None:
    assert w.client.get("/api/datasets/shared.township_overview/rows?limit=10001",
                        headers=auth(w, "mzj")).status_code == 422
    got = w.client.post("/api/query?limit=3", json={"sql": "SELECT township_code FROM shared.township_overview"},
                        headers=auth(w, "mzj"))
    assert got.json()["truncated"] is True and len(got.json()["rows"]) == 3


def test_parquet_and_arrow_downloads_and_the_client(w: SimpleNamespace) -> None:
    got = w.client.get("/api/datasets/shared.township_overview/rows?format=parquet&columns=township_code,pin",
                       headers=auth(w, "mzj"))
    table = pq.read_table(io.BytesIO(got.content))
    assert table.to_pydict() == {"township_code": ["511724001", "511724002", "511724100", "511724200"],
                                 "pin": ["******", "******", None, "******"]}
    got = w.client.post("/api/query?format=arrow", json={"sql": "SELECT residents FROM shared.township_overview"},
                        headers=auth(w, "mzj"))
    assert pa.ipc.open_stream(got.content).read_all().to_pydict() == {"residents": [10, 20, 30, 40]}
    frame = query("SELECT sum(residents) AS n FROM shared.township_overview", w.tokens["mzj"], url="",
                  http=w.client)
    assert frame["n"].tolist() == [100] and frame.attrs["truncated"] is False
    with pytest.raises(QueryError) as refused:
        query("SELECT * FROM shared.case_files", w.tokens["mzj"], url="", http=w.client)
    assert refused.value.status == 403
    assert [e.action for e in audited(w)] == ["download", "download", "download"]
