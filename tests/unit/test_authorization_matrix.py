"""Authorization matrix, generated from the app's own route table: every API route and page × every principal
× each sharing type (and a raw-zone entry). The expected statuses are written out by hand below — not derived
from the policy — and every 200 is searched for the unmasked ID number and phone the samples were given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.access import dataset_info
from countyhub.catalog.web import create_app
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.service import utc_now
from countyhub.sharing.service_spec import Param, Service
from tests.fixtures.sharing_web import csrf_of, make_sharing, sign_in, write_grant

RAW_ID, RAW_PHONE = "511724199001011234", "13812345678"
OWNER, OTHER = "gaj", "mzj"
DATASETS = {"uncond": "shared.township_people", "cond": "shared.resident_profile", "notshared": "shared.case_files",
            "raw": "raw_gaj.persons"}
PRINCIPALS = ("anonymous", "owner_analyst", "owner_engineer", "owner_steward", "owner_admin", "other_analyst",
              "other_granted")


def _entry(name: str, kind: str, sharing: str) -> DatasetEntry:
    cols = [Column("person_id", "INTEGER", "人员编号", "internal"), Column("id_number", "VARCHAR", "身份证号", "sensitive"),
            Column("phone", "VARCHAR", "手机号码", "sensitive"), Column("township_code", "VARCHAR", "乡镇", "public")]
    return DatasetEntry(name, kind, f"测试{sharing}", name, "户籍数据", OWNER, "大竹县公安局", sharing, "sensitive", cols,
                        legal_basis="《居民身份证法》第十九条" if sharing == "not_shared" else "",
                        sharing_conditions="仅限低保核查" if sharing == "conditional" else "",
                        sample_rows=[{"person_id": 1, "id_number": RAW_ID, "phone": RAW_PHONE, "township_code": "1"}])


# ---- the expectation table (by hand) -----------------------------------------------------------------------
A, O_AN, O_EN, O_ST, O_AD, X_AN, X_GR = PRINCIPALS
ALL_SIGNED = {p: 200 for p in PRINCIPALS[1:]}


def signed(status: int = 200, **others: int) -> dict[str, int]:
    return {p: others.get(p, status) for p in PRINCIPALS[1:]}


# Entry routes, per dataset: shared entries are visible to every signed-in caller; raw only to engineers/admins.
ENTRY = {"uncond": ALL_SIGNED, "cond": ALL_SIGNED, "notshared": ALL_SIGNED,
         "raw": signed(403, owner_engineer=200, owner_admin=200)}
# Samples shown (True) or stripped (False) on the entry (API JSON and page), where the entry is visible.
SAMPLES = {
    "uncond": {O_AN: True, O_EN: True, O_ST: True, O_AD: True, X_AN: True, X_GR: True},
    "cond": {O_AN: True, O_EN: True, O_ST: True, O_AD: True, X_AN: False, X_GR: True},
    "notshared": {O_AN: True, O_EN: True, O_ST: True, O_AD: True, X_AN: False, X_GR: False},
    "raw": {O_EN: True, O_AD: True},
}
STEWARDS = signed(403, owner_steward=200, owner_admin=200)
# Rows: the sharing-type table of the issue; a grant on a not-shared dataset changes nothing.
ROWS = {"uncond": ALL_SIGNED, "cond": signed(200, other_analyst=403),
        "notshared": signed(200, other_analyst=403, other_granted=403),
        "raw": signed(403, owner_engineer=200, owner_admin=200)}
# SQL names shared datasets only: a raw table is refused for everyone (engineers read it with rows, not SQL).
QUERY = {**ROWS, "raw": signed(403)}
# Which raw values a 2xx data answer may carry: the owner reads its own data whole; cgj's grant on the
# conditional dataset names id_number (not phone); everyone else gets both masked.
OWNERS_CLEAR = {O_AN, O_EN, O_ST, O_AD}
# Page POSTs: a bearer caller has no session, so the CSRF check refuses it (403); anonymous is sent to sign in.
FORM = signed(403)
# Route (method, path) -> anonymous status and the signed-in statuses; "{name}" routes run once per dataset.
ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/api/datasets"): ALL_SIGNED,
    ("GET", "/api/datasets/{name}"): ENTRY,
    ("GET", "/api/datasets/{name}/lineage"): ENTRY,
    ("GET", "/api/datasets/{name}/impact"): ENTRY,
    ("POST", "/api/datasets/{name}/usage"): {k: {p: 204 if s == 200 else s for p, s in v.items()}
                                             for k, v in ENTRY.items()},
    ("GET", "/api/search"): ALL_SIGNED,
    ("GET", "/api/departments"): ALL_SIGNED,
    ("GET", "/api/quality"): ALL_SIGNED,
    ("GET", "/catalog.{ext}"): ALL_SIGNED,
    ("GET", "/api/3/action/{name}"): ALL_SIGNED,
    ("POST", "/api/3/action/{name}"): ALL_SIGNED,
    ("GET", "/api/action/{name}"): ALL_SIGNED,
    ("POST", "/api/action/{name}"): ALL_SIGNED,
    ("GET", "/"): ALL_SIGNED,
    ("GET", "/datasets/{name}"): ENTRY,
    ("GET", "/departments/{code}"): ALL_SIGNED,
    ("GET", "/quality"): ALL_SIGNED,
    ("GET", "/requests"): STEWARDS,
    ("GET", "/audit"): STEWARDS,
    ("GET", "/data-docs/{page:path}"): signed(403, owner_engineer=404, owner_admin=404),  # no such page: 404
    ("POST", "/datasets/{name}/access-requests"): FORM,
    ("POST", "/datasets/{name}/usage"): FORM,
    ("POST", "/requests/{request_id}/approve"): FORM,
    ("POST", "/requests/{request_id}/deny"): FORM,
    ("POST", "/logout"): FORM,
    # The grant API (catalog/api_grants.py). Requests are filed by other departments only; a steward or an admin
    # of the owner decides and revokes; each cell decides a request (or revokes a grant) made fresh for it.
    ("GET", "/api/access-requests"): ALL_SIGNED,
    ("POST", "/api/access-requests"): signed(403, other_analyst=201, other_granted=201),
    ("POST", "/api/access-requests/{request_id}/approve"): STEWARDS,
    ("POST", "/api/access-requests/{request_id}/deny"): STEWARDS,
    ("GET", "/api/grants"): ALL_SIGNED,
    ("POST", "/api/grants/{grant_id}/revoke"): STEWARDS,
    ("GET", "/api/audit"): STEWARDS,
    # Rows and SQL (catalog/api_data.py) over a real lake holding one row with the raw ID and phone.
    ("GET", "/api/datasets/{name}/rows"): ROWS,
    ("POST", "/api/query"): QUERY,
    # Data services (catalog/api_services.py): a lookup per shared dataset follows the rows table; cgj's grant on
    # the conditional and not-shared datasets names the service.
    ("GET", "/api/services"): ALL_SIGNED,
    ("GET", "/api/services/usage"): ALL_SIGNED,
    ("GET", "/api/services/{dataset}/{name}"): {k: signed(404) for k in DATASETS},
    **{("GET", f"/api/services/{DATASETS[k].split('.')[1]}/person_lookup"): {k: ROWS[k]}
       for k in ("uncond", "cond", "notshared")},
    # Service pages (catalog/pages_services.py): the list for everyone signed in; a service's page describes the
    # interface (no data) for every shared dataset's person_lookup; the raw table declares none (404).
    ("GET", "/services"): ALL_SIGNED,
    ("GET", "/services/{dataset}/{name}"): {**{k: ALL_SIGNED for k in ("uncond", "cond", "notshared")},
                                             "raw": signed(404)},
}
SERVICE_KEYS = {f"/api/services/{DATASETS[k].split('.')[1]}/person_lookup": (k,) for k in ("uncond", "cond", "notshared")}
# Public on purpose: the OpenAPI document and its viewer describe the interface (no data), sign-in is how one
# gets a session, the health probe says only "ok".
PUBLIC = {("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/docs/oauth2-redirect"),
          ("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}
PAGE_PREFIXES = ("/api/", "/catalog.")


def _routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        if isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                if method != "HEAD":
                    out.add((method, route.path))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One app for the whole matrix (cells only read, or are refused before writing)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _world(tmp_path_factory.mktemp("matrix"), monkeypatch)


def _lake(tmp_path: Any) -> Lake:
    """Each dataset of the matrix as a lake table: one person whose ID and phone are the raw values."""
    lake = Lake(load_settings(environ={"COUNTYHUB_HOME": str(tmp_path / "home")}))
    row = f"SELECT 1 AS person_id, '{RAW_ID}' AS id_number, '{RAW_PHONE}' AS phone, '1' AS township_code"
    with lake.writer() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS lake.raw_gaj")
        for name in DATASETS.values():
            con.execute(f"CREATE OR REPLACE TABLE lake.{name} AS {row}")
    return lake


def _world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for key, kind, sharing in (("uncond", "published", "unconditional"), ("cond", "published", "conditional"),
                               ("notshared", "published", "not_shared"), ("raw", "raw_stream", "conditional")):
        catalog.register_dataset(_entry(DATASETS[key], kind, sharing))
    declared = [Service(DATASETS[k], "person_lookup", "lookup", "人员查询", "person lookup",
                        (Param("person_id", "integer", "person_id"),), ("id_number", "phone", "township_code"))
                for k in ("uncond", "cond", "notshared")]
    sharing = make_sharing(monkeypatch, catalog, _lake(tmp_path), declared)
    tokens: dict[str, str | None] = {"anonymous": None}
    for who, dept, role in (("owner_analyst", OWNER, "analyst"), ("owner_engineer", OWNER, "engineer"),
                            ("owner_steward", OWNER, "steward"), ("owner_admin", OWNER, "admin"),
                            ("other_analyst", OTHER, "analyst"), ("other_granted", "cgj", "analyst")):
        tokens[who] = sharing.users.add(who, dept, role)[1]
    now = utc_now()
    for key in ("cond", "notshared"):  # a grant row on not_shared too: it must change nothing
        write_grant(sharing.engine, DATASETS[key], "cgj", ["person_id", "id_number", "township_code"],
                    now - timedelta(days=1), now + timedelta(days=30), services=("person_lookup",))
    requester = sharing.users.add("fresh_requester", "scjgj", "analyst")[0]
    return {"app": create_app(catalog, sharing), "tokens": tokens, "sharing": sharing, "catalog": catalog,
            "requester": requester}


def test_every_route_is_classified(world: dict[str, Any]) -> None:
    routes = _routes(world["app"])
    unclassified = routes - set(ROUTES) - PUBLIC
    assert not unclassified, f"new routes the authorization matrix does not classify: {sorted(unclassified)}"
    assert not set(ROUTES) - routes, f"classified routes that no longer exist: {sorted(set(ROUTES) - routes)}"


def _fresh_ids(world: dict[str, Any]) -> tuple[str, str]:
    """A pending request filed by cgj's analyst, and an active grant, for one cell to decide or revoke."""
    sharing, catalog = world["sharing"], world["catalog"]
    who = world["requester"]  # of scjgj, whom no cell reads as: approving its request changes no cell's grant
    info = dataset_info(catalog.get_entry(DATASETS["cond"]))
    filed = sharing.grants.request(who, info, ["phone"], "低保核查", "《社会救助暂行办法》", 30)
    now = utc_now()
    # For a department no principal belongs to: a fresh grant must not change what cgj's analyst reads later.
    grant = write_grant(sharing.engine, DATASETS["cond"], "scjgj", ["phone"], now, now + timedelta(days=3))
    return str(filed.id), str(grant.id)


def _call(client: TestClient, method: str, path: str, name: str, world: dict[str, Any]) -> Any:
    request_id, grant_id = _fresh_ids(world) if "_id}" in path else ("1", "1")
    url = (path.replace("{name}", name).replace("{code}", OWNER).replace("{ext}", "ttl")
           .replace("{page:path}", "x/none.html").replace("{request_id}", request_id)
           .replace("{grant_id}", grant_id))
    if path == "/services/{dataset}/{name}":  # the page of the dataset's person_lookup service
        url = f"/services/{name.split('.')[1]}/person_lookup"
    if path.endswith("/action/{name}"):
        url = path.replace("{name}", "package_search")
    params = {"column": "id_number"} if path.endswith("/impact") else None
    if path in SERVICE_KEYS:
        params = {"person_id": "1"}
    if path == "/api/query":
        return client.post(url, json={"sql": f"SELECT * FROM {name}"})
    if method == "POST":
        body = {"event": "query"} if path.startswith("/api/datasets") else None
        if path.startswith(("/api/access-requests", "/api/grants")):
            body = {"dataset": DATASETS["cond"], "columns": ["phone"], "purpose": "低保核查",
                    "legal_basis": "《社会救助暂行办法》", "days": 30, "reason": "不符合条件"}
        form = None if body else {"csrf": "", "purpose": "x", "legal_basis": "y", "days": "3", "reason": "z"}
        return client.post(url, json=body, data=form, params=params)
    return client.get(url, params=params)


CASES = [(m, p, who, key) for (m, p), table in ROUTES.items() for who in PRINCIPALS
         for key in (DATASETS if "{name}" in p and not p.endswith("/action/{name}") else SERVICE_KEYS.get(p, ("cond",)))]


@pytest.mark.parametrize(("method", "path", "who", "key"), CASES, ids=[f"{m} {p} {w} {k}" for m, p, w, k in CASES])
def test_matrix_cell(world: dict[str, Any], method: str, path: str, who: str, key: str) -> None:
    token = world["tokens"][who]
    client = TestClient(world["app"], follow_redirects=False,
                        headers={"Authorization": f"Bearer {token}"} if token else {})
    table = ROUTES[(method, path)]
    expected_signed = table.get(key, table)
    is_api = path.startswith(PAGE_PREFIXES)
    expected = (401 if is_api else 303) if who == "anonymous" else expected_signed[who]
    response = _call(client, method, path, DATASETS[key], world)
    assert response.status_code == expected, response.text[:300]
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if expected == 303:
        assert response.headers["location"].startswith("/login?next=")
    if expected == 403 and is_api:
        assert response.json()["detail"]  # the reason, in one line
    if response.status_code in (200, 201, 204):
        clear: set[str] = set()
        if path in ("/api/datasets/{name}/rows", "/api/query", *SERVICE_KEYS):
            clear = {RAW_ID, RAW_PHONE} if who in OWNERS_CLEAR else {RAW_ID} if (who, key) == (X_GR, "cond") else set()
        for value in (RAW_ID, RAW_PHONE):
            assert (value in response.text) is (value in clear), f"{value} shown={value in response.text} for {who}"
    if expected == 200 and path in ("/api/datasets/{name}", "/datasets/{name}"):
        shows = "511724********1234" in response.text  # the stored, masked sample value
        assert shows is SAMPLES[key][who], f"samples shown={shows} for {who} on {key}"


def test_page_forms_need_the_session_csrf_token(world: dict[str, Any]) -> None:
    """Signed in through /login, a form without (or with a wrong) CSRF token is refused; with it, it goes through."""
    app, token = world["app"], world["tokens"]["other_granted"]
    client = TestClient(app, follow_redirects=False)
    login_csrf = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"token": token, "csrf": "forged", "next": "/"}).status_code == 403
    assert client.post("/login", data={"token": token, "csrf": login_csrf, "next": "//evil.example"}).headers[
        "location"] == "/"  # never an open redirect
    csrf = csrf_of(client.get("/").text)
    url = f"/datasets/{DATASETS['cond']}/access-requests"
    form = {"columns": ["phone"], "purpose": "低保核查", "legal_basis": "《社会救助暂行办法》", "days": "30"}
    refused = client.post(url, data=form | {"csrf": "wrong"})
    assert refused.status_code == 403 and "CSRF check failed" in refused.text
    assert client.post(url, data=form).status_code == 403
    filed = client.post(url, data=form | {"csrf": csrf})
    assert filed.status_code == 303 and "requested=" in filed.headers["location"]
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/").status_code == 303  # the session ended on the server


# Deciding a request through the steward page, signed in with a session and its CSRF token (by hand).
DECIDE = {O_AN: 403, O_EN: 403, O_ST: 303, O_AD: 303, X_AN: 403, X_GR: 403}


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_only_the_owner_steward_or_an_admin_decides(world: dict[str, Any], decision: str) -> None:
    app, tokens = world["app"], world["tokens"]
    sessions = {who: sign_in(app, tokens[who]) for who in DECIDE}
    requester, csrf = sessions[X_AN]
    for who, expected in DECIDE.items():
        filed = requester.post(f"/datasets/{DATASETS['cond']}/access-requests", data={
            "csrf": csrf, "columns": ["phone"], "purpose": "低保核查", "legal_basis": "办法", "days": "30"})
        request_id = filed.headers["location"].split("requested=")[1].split("#")[0]
        client, token = sessions[who]
        done = client.post(f"/requests/{request_id}/{decision}", data={"csrf": token, "reason": "不符合条件"})
        assert done.status_code == expected, (who, done.text[:200])
    steward, _ = sessions[O_ST]
    page = steward.get("/requests")
    assert page.status_code == 200 and RAW_ID not in page.text
    assert steward.get("/audit").status_code == 200
