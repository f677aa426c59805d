"""The requests/grants/audit API over real HTTP: who may file, list, decide, revoke and read the audit log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.api_grants import add_grant_routes
from countyhub.catalog.auth import add_error_handlers
from countyhub.sharing.service import Sharing

RAW_ID = "511724199001011234"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 9, 29, 2, 0)  # Monday before National Day, 10:00 in Beijing

    def __call__(self) -> datetime:
        return self.now


def dataset(name: str, dept: str, sharing: str, *columns: str) -> DatasetEntry:
    return DatasetEntry(name=name, kind="published", title_zh=name, title_en=name, department_code=dept,
                        department_name=dept, description="", sharing_type=sharing, classification="internal",
                        columns=[Column(c, "VARCHAR") for c in columns])


class County:
    def __init__(self, tmp_path: Path) -> None:
        self.catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
        for e in (dataset("shared.resident_profile", "dsj", "conditional", "person_id", "id_number", "receives_subsidy"),
                  dataset("shared.urban_cases", "cgj", "unconditional", "case_id", "grid_code"),
                  dataset("shared.case_files", "gaj", "not_shared", "case_id")):
            self.catalog.register_dataset(e)
        self.clock = Clock()
        self.sharing = Sharing(self.catalog.engine, None, clock=self.clock)  # type: ignore[arg-type]  # no lake needed
        app = FastAPI()
        app.state.sharing = self.sharing
        add_error_handlers(app)
        add_grant_routes(app, self.catalog)
        self.app, self.http = app, TestClient(app)
        self.tokens = {name: self.sharing.users.add(name, dept, role)[1] for name, dept, role in [
            ("li_mzj", "mzj", "analyst"), ("an_cgj", "cgj", "analyst"), ("zhou_dsj", "dsj", "steward"),
            ("wu_cgj", "cgj", "steward"), ("root", "dsj", "admin"), ("boss_mzj", "mzj", "admin")]}

    def call(self, who: str | None, method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.http.request(method, path, headers=headers, **kw)

    def file(self, who: str = "li_mzj", **kw) -> int:
        body = {"dataset": "shared.resident_profile", "columns": ["receives_subsidy"], "purpose": "低保复核",
                "legal_basis": "社会救助暂行办法第十条", "days": 90} | kw
        response = self.call(who, "POST", "/api/access-requests", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def audit(self, who: str = "root", **params) -> list[dict]:
        self.sharing.audit.flush()
        response = self.call(who, "GET", "/api/audit", params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def county(tmp_path: Path):
    c = County(tmp_path)
    yield c
    c.sharing.audit.close()


def test_every_route_refuses_an_anonymous_or_bad_token(county: County) -> None:
    routes = [(m, r.path.replace("{request_id}", "1").replace("{grant_id}", "1"))
              for r in county.app.routes if getattr(r, "path", "").startswith("/api/") for m in r.methods]
    assert len(routes) == 7
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer chub_nope_" + "x" * 40}, {"Authorization": "Basic abc"}):
            response = county.http.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


def test_request_approve_revoke_with_lists_and_audit(county: County) -> None:
    request_id = county.file()
    pending = county.call("zhou_dsj", "GET", "/api/access-requests", params={"status": "pending"}).json()
    assert [(r["id"], r["department"], r["requester"], r["overdue"]) for r in pending] == [
        (request_id, "mzj", "li_mzj", False)]
    assert county.call("wu_cgj", "GET", "/api/access-requests").json() == []  # not cgj's dataset
    assert [r["id"] for r in county.call("li_mzj", "GET", "/api/access-requests").json()] == [request_id]
    assert county.call("an_cgj", "GET", "/api/access-requests").json() == []

    refused = county.call("wu_cgj", "POST", f"/api/access-requests/{request_id}/approve")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("only a steward of department dsj")
    county.clock.now = datetime(2025, 9, 30, 1, 0)
    grant = county.call("zhou_dsj", "POST", f"/api/access-requests/{request_id}/approve").json()
    assert (grant["department"], grant["columns"], grant["approver"], grant["active"]) == (
        "mzj", ["receives_subsidy"], "zhou_dsj", True)
    assert (grant["starts_at"], grant["expires_at"]) == ("2025-09-30T01:00:00+00:00", "2025-12-29T01:00:00+00:00")
    assert [g["id"] for g in county.call("li_mzj", "GET", "/api/grants").json()] == [grant["id"]]
    assert county.call("an_cgj", "GET", "/api/grants").json() == []

    again = county.call("root", "POST", f"/api/access-requests/{request_id}/approve")
    assert (again.status_code, again.json()["detail"]) == (400, f"access request {request_id} is already approved")
    assert county.call("li_mzj", "POST", f"/api/grants/{grant['id']}/revoke").status_code == 403
    revoked = county.call("zhou_dsj", "POST", f"/api/grants/{grant['id']}/revoke").json()
    assert revoked["active"] is False and revoked["revoked_at"] == "2025-09-30T01:00:00+00:00"

    entries = county.audit("zhou_dsj")
    assert [(e["id"], e["action"], e["actor"], e["department"]) for e in entries] == [
        (3, "grant_revoke", "zhou_dsj", "dsj"), (2, "grant_approve", "zhou_dsj", "dsj"),
        (1, "grant_request", "li_mzj", "mzj")]
    assert entries[1]["grant_id"] == grant["id"] and entries[2]["purpose"] == "低保复核"
    assert county.sharing.audit.verify() == (3, None)


def test_the_requester_cannot_approve_even_as_admin(county: County) -> None:
    request_id = county.file("boss_mzj")
    response = county.call("boss_mzj", "POST", f"/api/access-requests/{request_id}/approve")
    assert (response.status_code, response.json()["detail"]) == (403, "the requester cannot decide on their own request")
    assert county.call("root", "POST", f"/api/access-requests/{request_id}/approve").status_code == 200


def test_a_denial_needs_a_reason_and_is_shown_to_the_requester(county: County) -> None:
    request_id = county.file()
    blank = county.call("zhou_dsj", "POST", f"/api/access-requests/{request_id}/deny", json={"reason": " "})
    assert (blank.status_code, blank.json()["detail"]) == (400, "a denial needs a reason")
    county.call("zhou_dsj", "POST", f"/api/access-requests/{request_id}/deny", json={"reason": "用途不明确"})
    [mine] = county.call("li_mzj", "GET", "/api/access-requests", params={"status": "denied"}).json()
    assert (mine["status"], mine["reason"], mine["decided_by"]) == ("denied", "用途不明确", "zhou_dsj")
    assert county.audit()[0]["detail"] == {"request_id": request_id, "to_department": "mzj", "reason": "用途不明确"}


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"dataset": "shared.case_files", "columns": ["case_id"]}, 400, "a grant cannot be filed for a not-shared dataset"),
    ({"dataset": "shared.nothing"}, 404, "no dataset named 'shared.nothing' (try /api/search)"),
    ({"days": 400}, 400, "days must be a whole number from 1 to 366"),
    ({"columns": ["salary"]}, 400, "shared.resident_profile has no column 'salary'"),
    ({"purpose": ""}, 400, "a request needs a purpose"),
])
def test_requests_refused_with_one_line(county: County, body: dict, status: int, detail: str) -> None:
    full = {"dataset": "shared.resident_profile", "columns": ["person_id"], "purpose": "核查", "legal_basis": "依据",
            "days": 30} | body
    response = county.call("li_mzj", "POST", "/api/access-requests", json=full)
    assert (response.status_code, response.json()["detail"]) == (status, detail)


def test_the_owner_department_files_no_request(county: County) -> None:
    response = county.call("zhou_dsj", "POST", "/api/access-requests", json={
        "dataset": "shared.resident_profile", "columns": ["person_id"], "purpose": "x", "legal_basis": "y", "days": 1})
    assert response.status_code == 403 and "owns shared.resident_profile" in response.json()["detail"]


def test_an_unanswered_request_is_flagged_after_ten_working_days(county: County) -> None:
    request_id = county.file()
    county.clock.now = datetime(2025, 10, 20, 15, 0)  # 23:00 on the tenth working day (Beijing)
    assert county.call("root", "GET", "/api/access-requests", params={"status": "overdue"}).json() == []
    county.clock.now = datetime(2025, 10, 21, 1, 0)
    [late] = county.call("root", "GET", "/api/access-requests", params={"status": "overdue"}).json()
    assert late["id"] == request_id and late["overdue"] is True


def test_the_audit_is_for_stewards_of_the_owner_and_admins(county: County) -> None:
    county.file()
    county.file("an_cgj")
    cases = {"dataset": "shared.urban_cases", "columns": ["case_id"], "purpose": "网格", "legal_basis": "办法",
             "days": 5}
    county.call("li_mzj", "POST", "/api/access-requests", json=cases)
    assert [e["dataset"] for e in county.audit("wu_cgj")] == ["shared.urban_cases"]
    assert [e["dataset"] for e in county.audit("zhou_dsj")] == ["shared.resident_profile"] * 2
    assert len(county.audit("root")) == 3 and len(county.audit("root", department="cgj")) == 1
    assert len(county.audit("root", limit=1)) == 1
    for who, params, detail in [("li_mzj", {}, "the audit log is for stewards and admins"),
                                ("wu_cgj", {"department": "dsj"}, "a steward of cgj sees the audit of its own"),
                                ("wu_cgj", {"dataset": "shared.resident_profile"}, "is not a dataset of department cgj")]:
        response = county.call(who, "GET", "/api/audit", params=params)
        assert response.status_code == 403 and detail in response.json()["detail"], response.text


def test_an_id_number_in_a_purpose_is_masked_in_answers_and_the_log(county: County) -> None:
    request_id = county.file(purpose=f"核查{RAW_ID}的救助资格")
    listed = county.call("zhou_dsj", "GET", "/api/access-requests").text
    logged = county.call("root", "GET", "/api/audit").text
    assert RAW_ID not in listed and RAW_ID not in logged and "511724********1234" in listed
    assert county.sharing.grants.get(request_id).purpose == "核查511724********1234的救助资格"
