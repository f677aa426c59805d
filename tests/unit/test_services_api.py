"""Data services through a real uvicorn and a real HTTP client: answers, masks, refusals, limits, audit, versions."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from countyhub.catalog import Catalog
from countyhub.catalog.access import dataset_info
from countyhub.catalog.web import create_app
from countyhub.core.settings import load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing import tables as t
from countyhub.sharing.limits import Limits
from countyhub.sharing.service import Sharing
from countyhub.sharing.service_spec import Param, Service
from tests.fixtures.servers import uvicorn_thread
from tests.fixtures.sharing_fixtures import PSEUDONYM_KEY, build_lake, register

VERIFY = Service("shared.resident_profile", "household_verify", "verify", "户籍核验", "Household verify",
                 (Param("id_number", "id_number", "id_number"), Param("name", "string", "name", "claim")))
LOOKUP = Service("shared.resident_profile", "resident_lookup", "lookup", "居民查询", "Resident lookup",
                 (Param("id_number", "id_number", "id_number"),), ("name", "township_code", "phone"))
TOWNSHIPS = Service("shared.township_overview", "township_list", "list", "乡镇列表", "Townships",
                    (Param("township_code", "string", "township_code", "filter", required=False),),
                    ("township_code", "head_phone"), page_cap=2)
ABSENT_ID = "511724200208068247"  # valid, and not one of the fixture's people
USERS = {"app_mzj": ("mzj", "app"), "owner_dsj": ("dsj", "analyst"), "app_cgj": ("cgj", "app"),
         "admin": ("dsj", "admin"), "steward_dsj": ("dsj", "steward")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    home = tmp_path_factory.mktemp("services") / "home"
    settings = load_settings(environ={"COUNTYHUB_HOME": str(home)})
    lake, catalog = Lake(settings), Catalog(settings.catalog_url)
    people = build_lake(lake)
    register(catalog)
    now = [datetime(2025, 3, 3, 9, 0)]
    sharing = Sharing(catalog.engine, lake, clock=lambda: now[0], pseudonym_key=PSEUDONYM_KEY,
                      declared=[VERIFY, LOOKUP, TOWNSHIPS], limits=Limits(rate=1000, daily_quota=10**6))
    users, tokens = {}, {}
    for name, (dept, role) in USERS.items():
        users[name], tokens[name] = sharing.users.add(name, dept, role)
    info = dataset_info(catalog.get_entry("shared.resident_profile"))
    filed = sharing.grants.request(users["app_mzj"], info, ["name"], "低保核查", "《社会救助暂行办法》", 30,
                                   ["household_verify", "resident_lookup"], ("household_verify", "resident_lookup"))
    grant = sharing.grants.approve(filed.id, users["steward_dsj"], info, rate_per_second=1000)
    with uvicorn_thread(create_app(catalog, sharing)) as url:
        clients = {n: httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}) for n, tok in tokens.items()}
        yield SimpleNamespace(url=url, sharing=sharing, catalog=catalog, lake=lake, people=people, now=now, info=info,
                              users=users, tokens=tokens, clients=clients, grant=grant,
                              anonymous=httpx.Client(base_url=url))
        for client in clients.values():
            client.close()
    sharing.gateway.close()


def _entries(w: SimpleNamespace) -> int:
    """Audit entries committed now, read on a connection of its own (not the server's writer)."""
    engine = create_engine(str(w.sharing.engine.url))
    with engine.connect() as con:
        return con.execute(select(func.count()).select_from(t.audit_log)).scalar_one()


def _call(w: SimpleNamespace, who: str, service: Service, **params: str) -> httpx.Response:
    return w.clients[who].get(f"/api/services/{service.table}/{service.name}", params=params)


def test_verify_answers_match_no_match_not_found_and_nothing_personal(world: SimpleNamespace) -> None:
    person = world.people[0]
    answers = [_call(world, "app_mzj", VERIFY, id_number=person["id_number"], name=person["name"]),
               _call(world, "app_mzj", VERIFY, id_number=person["id_number"], name="王不对"),
               _call(world, "app_mzj", VERIFY, id_number=ABSENT_ID, name=person["name"])]
    assert [r.json()["result"] for r in answers] == ["match", "no_match", "not_found"]
    for r in answers:
        assert person["id_number"] not in r.text and person["name"] not in r.text and person["phone"] not in r.text


def test_lookup_masks_what_the_grant_does_not_name(world: SimpleNamespace) -> None:
    person = world.people[1]
    granted = _call(world, "app_mzj", LOOKUP, id_number=person["id_number"]).json()
    assert granted["row"]["name"] == person["name"]  # the grant names `name`
    phone = person["phone"]
    assert granted["row"]["phone"] == phone[:3] + "****" + phone[-4:] and granted["masked"] == ["phone"]
    owner = _call(world, "owner_dsj", LOOKUP, id_number=person["id_number"]).json()
    assert owner["row"] == {"name": person["name"], "township_code": person["township_code"], "phone": phone}
    assert _call(world, "app_mzj", LOOKUP, id_number=ABSENT_ID).json() == {
        "service": "resident_lookup", "dataset": "shared.resident_profile", "found": False, "row": None, "masked": []}


def test_who_may_call_what(world: SimpleNamespace) -> None:
    person = world.people[0]
    refused = _call(world, "app_cgj", VERIFY, id_number=person["id_number"], name=person["name"])
    assert refused.status_code == 403
    assert refused.json()["detail"] == "conditional dataset; no approved grant for department cgj"
    listing = _call(world, "app_cgj", TOWNSHIPS).json()  # unconditional: any department, sensitive columns masked
    assert len(listing["rows"]) == 2 and listing["truncated"] is True and listing["masked"] == ["head_phone"]
    assert "13812345678" not in str(listing) and listing["rows"][0]["head_phone"] == "138****5678"
    assert _call(world, "app_cgj", TOWNSHIPS, limit="3").status_code == 400  # over the page cap of 2
    assert world.anonymous.get("/api/services/resident_profile/household_verify").status_code == 401


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"id_number": "511724200208068246", "name": "张三"}, 400, "id_number: the check digit is wrong"),
    ({"id_number": "5117242002", "name": "张三"}, 400, "id_number: wrong length"),
    ({"name": "张三"}, 400, "missing parameter id_number"),
    ({"id_number": ABSENT_ID, "name": "张三", "extra": "1"}, 400, "unknown parameter 'extra'"),
    ({"id_number": ABSENT_ID, "name": "张" * 65}, 400, "name: longer than 64 characters"),
    ({"id_number": ABSENT_ID, "name": "x" * 5000}, 400, "name: longer than 64 characters"),
])
def test_bad_input_is_a_clear_4xx_and_on_the_record(world: SimpleNamespace, params: dict[str, str], status: int,
                                                    message: str) -> None:
    before = _entries(world)
    response = _call(world, "app_mzj", VERIFY, **params)
    assert response.status_code == status
    assert message in response.text and "511724200208068246" not in response.text
    assert _entries(world) == before + 1  # audited before the answer left: the count is up without any flush
    last = world.sharing.audit.entries(limit=1)[0]
    assert last.action == "service_refused" and last.detail["status"] == 400 and last.actor == "app_mzj"


def test_repeated_or_unknown_and_revoked_callers(world: SimpleNamespace) -> None:
    twice = world.clients["app_mzj"].get("/api/services/resident_profile/household_verify",
                                         params=[("id_number", ABSENT_ID), ("id_number", ABSENT_ID), ("name", "x")])
    assert twice.status_code == 400 and "given more than once" in twice.text
    unknown = world.clients["app_mzj"].get("/api/services/resident_profile/salary_lookup", params={"id_number": "1"})
    assert unknown.status_code == 404 and "no data service 'salary_lookup'" in unknown.text
    before = _entries(world)
    bad_token = httpx.get(f"{world.url}/api/services/resident_profile/household_verify",
                          headers={"Authorization": "Bearer chub_000000000000_" + "x" * 43})
    assert bad_token.status_code == 401 and _entries(world) == before + 1
    assert world.sharing.audit.entries(limit=1)[0].actor == "anonymous"


def test_each_answer_is_one_entry_with_a_pseudonymous_key(world: SimpleNamespace) -> None:
    person = world.people[2]
    before = _entries(world)
    for _ in range(3):
        assert _call(world, "app_mzj", VERIFY, id_number=person["id_number"], name=person["name"]).status_code == 200
    assert _entries(world) == before + 3
    entry = world.sharing.audit.entries(limit=1)[0]
    keyed = hmac.new(PSEUDONYM_KEY, person["id_number"].encode(), hashlib.sha256).hexdigest()
    assert entry.action == "service_call" and entry.detail["key"] == keyed and entry.detail["answer"] == "match"
    assert entry.grant_id == world.grant.id and entry.detail["ms"] >= 0
    stored = str(world.sharing.audit.entries(limit=50))
    assert person["id_number"] not in stored and person["name"] not in stored


def test_rate_limit_and_daily_quota_answer_429_with_retry_after(world: SimpleNamespace) -> None:
    sharing, owner = world.sharing, world.users["steward_dsj"]
    quoted = sharing.users.add("app_mzj_quota", "scjgj", "app")
    info = dataset_info(world.catalog.get_entry("shared.resident_profile"))
    filed = sharing.grants.request(quoted[0], info, [], "核验", "依据", 30, ["household_verify"], ("household_verify",))
    sharing.grants.approve(filed.id, owner, info, rate_per_second=2, daily_quota=3)
    client = httpx.Client(base_url=world.url, headers={"Authorization": f"Bearer {quoted[1]}"})
    codes = [client.get("/api/services/resident_profile/household_verify",
                        params={"id_number": ABSENT_ID, "name": "x"}) for _ in range(4)]
    assert [c.status_code for c in codes[:2]] == [200, 200]
    assert codes[2].status_code == 429 and "more than 2 calls a second" in codes[2].text
    assert int(codes[2].headers["retry-after"]) >= 1


def test_revoked_and_expired_grants_stop_the_next_call(world: SimpleNamespace) -> None:
    sharing = world.sharing
    user, token = sharing.users.add("app_gaj", "gaj", "app")
    filed = sharing.grants.request(user, world.info, [], "核验", "依据", 1, ["household_verify"], ("household_verify",))
    grant = sharing.grants.approve(filed.id, world.users["steward_dsj"], world.info)
    client = httpx.Client(base_url=world.url, headers={"Authorization": f"Bearer {token}"})

    def status() -> int:
        return client.get("/api/services/resident_profile/household_verify",
                          params={"id_number": ABSENT_ID, "name": "x"}).status_code

    assert status() == 200
    other = client.get("/api/services/resident_profile/resident_lookup", params={"id_number": ABSENT_ID})
    assert other.status_code == 403 and "no approved grant for service resident_lookup for department gaj" in other.text
    world.now[0] += timedelta(days=1, seconds=1)  # past the one-day grant
    try:
        assert status() == 403
    finally:
        world.now[0] -= timedelta(days=1, seconds=1)
    assert status() == 200
    sharing.grants.revoke(grant.id, world.users["steward_dsj"], world.info)
    assert status() == 403
    sharing.users.revoke("app_gaj")
    assert status() == 401


def test_a_publish_switches_whole_versions(world: SimpleNamespace) -> None:
    person = world.people[3]
    indexes = world.sharing.services.indexes
    assert _call(world, "app_mzj", VERIFY, id_number=person["id_number"], name=person["name"]).json()["result"] == "match"
    old = indexes.get("resident_profile", "id_number")
    with world.lake.writer() as con:  # the next version renames this person
        con.execute("CREATE OR REPLACE TABLE lake.shared.resident_profile AS SELECT * REPLACE "
                    f"(CASE WHEN id_number = '{person['id_number']}' THEN '改名' ELSE name END AS name) "
                    "FROM lake.shared.resident_profile")
    assert indexes.refresh() == 1  # what the poller does every second
    assert _call(world, "app_mzj", VERIFY, id_number=person["id_number"], name="改名").json()["result"] == "match"
    assert _call(world, "app_mzj", VERIFY, id_number=person["id_number"], name=person["name"]).json()["result"] \
        == "no_match"
    assert old.find(person["id_number"]).column("name").to_pylist() == [person["name"]]  # the old version, whole
    assert indexes.refresh() == 0  # nothing changed since: no rebuild


def test_usage_per_caller_and_the_service_list(world: SimpleNamespace) -> None:
    _call(world, "app_mzj", VERIFY, id_number=ABSENT_ID, name="x")
    day = world.sharing.clock().date().isoformat()
    rows = world.clients["admin"].get("/api/services/usage", params={"day": day}).json()
    mine = [r for r in rows if r["caller"] == "app_mzj" and r["service"] == "household_verify"]
    assert mine and mine[0]["calls"] >= 1 and mine[0]["p95_ms"] is not None
    others = world.clients["app_cgj"].get("/api/services/usage", params={"day": day}).json()
    assert {r["department"] for r in others} <= {"cgj"}
    listed = {s["name"]: s for s in world.clients["app_cgj"].get("/api/services").json()}
    assert set(listed) == {"household_verify", "resident_lookup", "township_list"}
    assert listed["household_verify"]["owner"] == "dsj" and listed["household_verify"]["sharing_type"] == "conditional"
    assert "/api/services/resident_profile/household_verify?id_number=" in listed["household_verify"]["example"]
    spec = httpx.get(f"{world.url}/api/openapi.json").json()["paths"]
    parameters = {p["name"] for p in spec["/api/services/resident_profile/household_verify"]["get"]["parameters"]}
    assert parameters == {"id_number", "name"}
