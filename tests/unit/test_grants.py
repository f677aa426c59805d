"""Access requests and grants: who may file and decide, expiry and revocation on a controllable clock, overdue flags."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from countyhub.sharing.grants import GrantStore
from countyhub.sharing.model import BadRequest, ColumnInfo, DatasetInfo, Forbidden, NotFound, Principal
from countyhub.sharing.workdays import deadline

PROFILE = DatasetInfo("shared.resident_profile", "dsj", "conditional",
                      (ColumnInfo("person_id"), ColumnInfo("id_number", "sensitive"), ColumnInfo("name", "sensitive"),
                       ColumnInfo("receives_subsidy")))
SECRET = DatasetInfo("shared.case_files", "gaj", "not_shared", (ColumnInfo("case_id"),))
ANALYST = Principal("li_mzj", "mzj", "analyst", 1)
STEWARD = Principal("zhou_dsj", "dsj", "steward", 2)
OTHER_STEWARD = Principal("wu_cgj", "cgj", "steward", 3)
ADMIN = Principal("root", "dsj", "admin", 4)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 3, 3, 2, 0))  # a Monday, 10:00 in Beijing


@pytest.fixture
def store(tmp_path, clock: Clock) -> GrantStore:
    return GrantStore(create_engine(f"sqlite:///{tmp_path / 'catalog.sqlite'}"), clock)


def file(store: GrantStore, who: Principal = ANALYST, days: int = 30, **kw):
    args = {"columns": ["receives_subsidy", "person_id"], "purpose": "低保复核", "legal_basis": "社会救助暂行办法"}
    return store.request(who, PROFILE, days=days, **(args | kw))


def test_a_request_is_filed_for_the_callers_department_and_lists_for_the_owner(store: GrantStore) -> None:
    request = file(store)
    assert (request.department, request.requester, request.status) == ("mzj", "li_mzj", "pending")
    assert request.columns == ("person_id", "receives_subsidy")  # dataset order, whatever order was asked
    assert store.pending("dsj") == [request] and store.pending("cgj") == [] and store.pending() == [request]
    assert store.get(request.id) == request


@pytest.mark.parametrize(("dataset", "who", "kw", "error", "message"), [
    (SECRET, ANALYST, {}, BadRequest, "a grant cannot be filed for a not-shared dataset"),
    (DatasetInfo("raw_gaj.persons", "gaj", "conditional", (ColumnInfo("case_id"),)), ANALYST, {}, BadRequest,
     "raw_gaj is the platform's own zone"),
    (PROFILE, Principal("ma", "dsj", "analyst"), {}, Forbidden, "department dsj owns shared.resident_profile"),
    (PROFILE, ANALYST, {"columns": ["person_id", "salary"]}, BadRequest, "has no column 'salary'"),
    (PROFILE, ANALYST, {"columns": []}, BadRequest, "at least one column"),
    (PROFILE, ANALYST, {"purpose": "  "}, BadRequest, "needs a purpose"),
    (PROFILE, ANALYST, {"legal_basis": ""}, BadRequest, "needs a legal basis"),
    (PROFILE, ANALYST, {"days": 0}, BadRequest, "days must be a whole number from 1 to 366"),
    (PROFILE, ANALYST, {"days": 367}, BadRequest, "days must be"),
])
def test_requests_that_cannot_be_filed(store: GrantStore, dataset, who, kw, error, message) -> None:
    args = {"columns": ["person_id"] if dataset is PROFILE else ["case_id"], "purpose": "核查", "legal_basis": "依据",
            "days": 30} | kw
    with pytest.raises(error, match=message):
        store.request(who, dataset, **args)
    assert store.pending() == []


def test_a_purpose_never_keeps_an_id_or_phone_number(store: GrantStore) -> None:
    request = file(store, purpose="核查 511724199001011234 的低保，联系 13812345678")
    assert "511724199001011234" not in request.purpose and "13812345678" not in request.purpose
    assert request.purpose == "核查 511724********1234 的低保，联系 138****5678"


def test_approval_starts_now_and_the_grant_expires_after_its_days(store: GrantStore, clock: Clock) -> None:
    request = file(store, days=30)
    clock.now = datetime(2025, 3, 5, 9, 0)
    grant = store.approve(request.id, STEWARD, PROFILE)
    assert (grant.starts_at, grant.expires_at) == (datetime(2025, 3, 5, 9, 0), datetime(2025, 4, 4, 9, 0))
    assert (grant.department, grant.columns, grant.approver) == ("mzj", ("person_id", "receives_subsidy"), "zhou_dsj")
    assert store.get(request.id).status == "approved" and store.pending() == []
    clock.now = datetime(2025, 4, 4, 8, 59)
    assert store.active_grant("mzj", PROFILE.name) == grant
    assert store.active_grant("cgj", PROFILE.name) is None
    clock.now = datetime(2025, 4, 4, 9, 0)  # no job ran: the clock alone ends it
    assert store.active_grant("mzj", PROFILE.name) is None
    assert store.grants(department="mzj") == [grant]


def test_a_revoked_grant_stops_at_once(store: GrantStore, clock: Clock) -> None:
    grant = store.approve(file(store).id, ADMIN, PROFILE)
    assert store.active_grant("mzj", PROFILE.name) == grant
    with pytest.raises(Forbidden, match="only a steward of department dsj"):
        store.revoke(grant.id, OTHER_STEWARD, PROFILE)
    clock.now += timedelta(minutes=1)
    revoked = store.revoke(grant.id, STEWARD, PROFILE)
    assert revoked.revoked_at == datetime(2025, 3, 3, 2, 1)
    assert store.active_grant("mzj", PROFILE.name) is None
    with pytest.raises(BadRequest, match="already revoked"):
        store.revoke(grant.id, STEWARD, PROFILE)


def test_the_requester_never_decides_even_as_admin(store: GrantStore) -> None:
    admin_elsewhere = Principal("boss_mzj", "mzj", "admin")
    request = file(store, who=admin_elsewhere)
    with pytest.raises(Forbidden, match="the requester cannot decide on their own request"):
        store.approve(request.id, admin_elsewhere, PROFILE)
    with pytest.raises(Forbidden, match="the requester"):
        store.deny(request.id, admin_elsewhere, PROFILE, "no")
    assert store.get(request.id).status == "pending"


@pytest.mark.parametrize("who", [OTHER_STEWARD, Principal("an_dsj", "dsj", "analyst"),
                                 Principal("en_dsj", "dsj", "engineer")])
def test_only_the_owning_steward_or_an_admin_decides(store: GrantStore, who: Principal) -> None:
    request = file(store)
    with pytest.raises(Forbidden, match=r"only a steward of department dsj \(the owner of shared.resident_profile\)"):
        store.approve(request.id, who, PROFILE)
    assert store.get(request.id).status == "pending" and store.grants() == []


def test_a_denial_needs_a_reason_and_a_decided_request_stays_decided(store: GrantStore) -> None:
    request = file(store)
    with pytest.raises(BadRequest, match="a denial needs a reason"):
        store.deny(request.id, STEWARD, PROFILE, " ")
    denied = store.deny(request.id, STEWARD, PROFILE, "用途与数据不符")
    assert (denied.status, denied.decided_by, denied.reason) == ("denied", "zhou_dsj", "用途与数据不符")
    with pytest.raises(BadRequest, match="already denied"):
        store.approve(request.id, ADMIN, PROFILE)
    with pytest.raises(NotFound, match="no access request 99"):
        store.approve(99, ADMIN, PROFILE)
    assert store.grants() == []


def test_deciding_needs_the_dataset_the_request_names(store: GrantStore) -> None:
    other = DatasetInfo("shared.urban_cases", "dsj", "conditional", (ColumnInfo("case_id"),))
    with pytest.raises(BadRequest, match="is for shared.resident_profile"):
        store.approve(file(store).id, STEWARD, other)


def test_the_steward_list_and_the_requesters_list(store: GrantStore) -> None:
    mine = file(store)
    cases = DatasetInfo("shared.urban_cases", "cgj", "unconditional", (ColumnInfo("case_id"),))
    theirs = store.request(STEWARD, cases, ["case_id"], "网格事件分析", "政务数据共享管理办法", 10)
    assert store.requests(owner="dsj") == [mine] and store.requests(department="dsj") == [theirs]
    assert store.requests(owner="dsj", department="dsj", either=True) == [mine, theirs]
    assert store.requests("approved") == []


# National Day 2025 (State Council notice): 1-8 October off; Sunday 28 September and Saturday 11 October worked.
@pytest.mark.parametrize(("filed", "due"), [
    (date(2025, 9, 29), date(2025, 10, 20)),  # 9-30, 10-9, 10-10, 10-11 (Sat), 10-13..17, 10-20
    (date(2025, 9, 26), date(2025, 10, 16)),  # 9-28 (Sun), 9-29, 9-30, 10-9, 10-10, 10-11, 10-13..16
    (date(2030, 1, 2), date(2030, 1, 16)),  # a year the calendar does not know yet: Monday to Friday
])
def test_ten_working_days_follow_the_chinese_calendar(filed: date, due: date) -> None:
    assert deadline(filed, 10) == due


def test_a_request_is_overdue_after_ten_working_days_across_national_day(store: GrantStore, clock: Clock) -> None:
    clock.now = datetime(2025, 9, 29, 2, 0)  # Monday 10:00 in Beijing
    request = file(store)
    clock.now = datetime(2025, 10, 9, 2, 0)  # ten calendar days later, only two working days
    assert store.overdue() == []
    clock.now = datetime(2025, 10, 20, 15, 59)  # 23:59 on the tenth working day, Beijing time
    assert store.overdue() == []
    clock.now = datetime(2025, 10, 20, 16, 0)  # 00:00 on 21 October in Beijing
    assert store.overdue() == [request]
    store.deny(request.id, STEWARD, PROFILE, "超出用途")
    assert store.overdue() == []
