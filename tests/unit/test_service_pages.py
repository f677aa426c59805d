"""The data service pages: the list with today's usage, one service's page, the dataset page's services section and
the search entry, over the real app. Expected values are written by hand."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.web import create_app
from countyhub.sharing.service import utc_now
from countyhub.sharing.service_spec import Param, Service
from tests.fixtures.sharing_web import make_sharing, sign_in, token_client, write_grant

RAW_ID = "511724199001011234"
HOUSEHOLD = Service("shared.resident_profile", "household_verify", "verify", "公安户籍核验", "Household registration verify",
                    (Param("id_number", "id_number", "id_number", description="公民身份号码 (18 位，校验位)"),
                     Param("name", "string", "name", "claim", description="申报的姓名")),
                    description="是否为本县户籍居民，且姓名与身份证号一致。")
SUBSIDY = Service("shared.resident_profile", "subsidy_verify", "verify", "低保对象核验", "Minimum living allowance verify",
                  (Param("id_number", "id_number", "id_number", description="公民身份号码"),),
                  expect={"subsidy_types": {"contains": "最低生活保障"}}, description="是否在最新一期最低生活保障发放名册中。")
ENTERPRISE = Service("shared.enterprise_registry", "enterprise_lookup", "lookup", "企业登记信息查询",
                     "Enterprise lookup by credit code",
                     (Param("credit_code", "credit_code", "uscc", description="统一社会信用代码"),),
                     ("uscc", "name", "status"), description="按统一社会信用代码查询企业登记信息。")


def _entries() -> list[DatasetEntry]:
    people = [Column("id_number", "VARCHAR", "身份证号", "sensitive"), Column("name", "VARCHAR", "姓名", "sensitive"),
              Column("subsidy_types", "VARCHAR", "救助类型", "internal")]
    firms = [Column("uscc", "VARCHAR", "统一社会信用代码", "public"), Column("name", "VARCHAR", "名称", "public"),
             Column("status", "VARCHAR", "登记状态", "public")]
    return [DatasetEntry("shared.resident_profile", "published", "居民综合画像", "Resident profile", "居民信息", "dsj",
                         "大竹县大数据中心", "conditional", "sensitive", people, sharing_conditions="仅限民政核查",
                         sample_rows=[{"id_number": RAW_ID, "name": "张三", "subsidy_types": "最低生活保障"}]),
            DatasetEntry("shared.enterprise_registry", "published", "市场主体登记信息", "Enterprise registry", "企业登记",
                         "scjgj", "大竹县市场监督管理局", "unconditional", "public", firms)]


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for entry in _entries():
        catalog.register_dataset(entry)
    sharing = make_sharing(monkeypatch, catalog, None, [HOUSEHOLD, SUBSIDY, ENTERPRISE])
    tokens = {who: sharing.users.add(who, dept, role)[1] for who, dept, role in (
        ("admin_dsj", "dsj", "admin"), ("analyst_mzj", "mzj", "analyst"), ("analyst_cgj", "cgj", "analyst"),
        ("engineer_gaj", "gaj", "engineer"))}
    now = utc_now()
    grant = write_grant(sharing.engine, "shared.resident_profile", "cgj", ["id_number"], now - timedelta(days=1),
                        now + timedelta(days=30), services=("household_verify",))
    return {"app": create_app(catalog, sharing), "tokens": tokens, "grant": grant}


def _get(world: dict[str, Any], who: str, url: str) -> Any:
    return token_client(world["app"], world["tokens"][who]).get(url)


def test_the_list_shows_every_service_with_owner_and_sharing_type(world: dict[str, Any]) -> None:
    page = _get(world, "analyst_mzj", "/services")
    assert page.status_code == 200
    text = page.text
    assert '<span id="service-count">3</span>' in text
    for title in ("公安户籍核验", "低保对象核验", "企业登记信息查询"):
        assert title in text
    assert 'href="/services/resident_profile/household_verify"' in text
    assert 'href="/services/enterprise_registry/enterprise_lookup"' in text
    assert 'href="/datasets/shared.resident_profile"' in text
    assert "大竹县大数据中心" in text and "大竹县市场监督管理局" in text
    assert "有条件共享" in text and "无条件共享" in text
    assert 'id="nav-services"' in text
    english = _get(world, "analyst_mzj", "/services?lang=en").text
    assert "Household registration verify" in english and "conditional" in english


def test_a_service_page_shows_parameters_example_owner_and_what_a_caller_needs(world: dict[str, Any]) -> None:
    page = _get(world, "analyst_mzj", "/services/resident_profile/household_verify")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "是否为本县户籍居民，且姓名与身份证号一致。" in text
    assert "match（一致）/ no_match（不一致）/ not_found（未找到），不返回任何个人信息" in text
    assert 'data-param="id_number"' in text and 'data-param="name"' in text
    assert "公民身份号码 (18 位，校验位)" in text and "申报的姓名" in text
    assert 'curl -H "Authorization: Bearer $TOKEN"' in text
    assert "/api/services/resident_profile/household_verify?id_number=" in text
    assert "大竹县大数据中心" in text and "dsj" in text
    assert "有条件共享" in text
    assert "调用方部门需持有列明本接口的已批准授权" in text
    assert 'data-may-call="no"' in text  # mzj holds no grant
    lookup = html.unescape(_get(world, "analyst_mzj", "/services/enterprise_registry/enterprise_lookup?lang=en").text)
    assert "Returned columns" in lookup and "credit_code" in lookup and "uscc" in lookup
    assert "Unconditional: any signed-in department may call" in lookup
    assert 'data-may-call="yes"' in lookup


def test_the_callers_own_access_follows_its_grant(world: dict[str, Any]) -> None:
    granted = _get(world, "analyst_cgj", "/services/resident_profile/household_verify").text
    assert 'data-may-call="yes"' in granted and f"#{world['grant'].id}" in granted
    # cgj's grant names household_verify only: the other service of the same dataset stays closed to it.
    other = html.unescape(_get(world, "analyst_cgj", "/services/resident_profile/subsidy_verify").text)
    assert 'data-may-call="no"' in other and "no approved grant for service subsidy_verify" in other
    owner = _get(world, "admin_dsj", "/services/resident_profile/subsidy_verify").text
    assert 'data-may-call="yes"' in owner


def test_unknown_service_is_a_404_page(world: dict[str, Any]) -> None:
    for url in ("/services/resident_profile/nope", "/services/nowhere/household_verify"):
        page = _get(world, "analyst_mzj", url)
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        assert 'data-status="404"' in page.text and "/services lists the declared ones" in page.text


def test_anonymous_is_sent_to_sign_in(world: dict[str, Any]) -> None:
    client = token_client(world["app"], None)
    for url in ("/services", "/services/resident_profile/household_verify"):
        page = client.get(url)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")


def test_usage_is_shown_to_whom_may_see_it(world: dict[str, Any]) -> None:
    caller = token_client(world["app"], world["tokens"]["analyst_mzj"])
    refused = caller.get("/api/services/resident_profile/household_verify", params={"id_number": RAW_ID, "name": "张三"})
    assert refused.status_code == 403  # conditional, no grant: an error on the record
    for who in ("analyst_mzj", "admin_dsj"):  # the caller's own department; the owner's admin
        for url in ("/services", "/services/resident_profile/household_verify"):
            text = _get(world, who, url).text
            assert 'data-usage="' in text and "analyst_mzj" in text, (who, url)
            assert '<td class="calls">1</td><td class="errors">1</td>' in text
    assert "analyst_mzj" not in _get(world, "engineer_gaj", "/services").text  # another department's calls
    quiet = _get(world, "admin_dsj", "/services/enterprise_registry/enterprise_lookup").text
    assert "今日暂无调用记录" in quiet


def test_dataset_page_lists_its_services(world: dict[str, Any]) -> None:
    client, _ = sign_in(world["app"], world["tokens"]["analyst_mzj"])
    page = client.get("/datasets/shared.resident_profile")
    assert page.status_code == 200
    assert "数据服务接口 · 2" in page.text
    assert 'href="/services/resident_profile/household_verify"' in page.text
    assert 'href="/services/resident_profile/subsidy_verify"' in page.text
    firms = client.get("/datasets/shared.enterprise_registry").text
    assert "数据服务接口 · 1" in firms and 'href="/services/enterprise_registry/enterprise_lookup"' in firms


@pytest.mark.parametrize(("q", "shown", "not_shown"), [
    ("户籍核验", ["household_verify"], ["subsidy_verify", "enterprise_lookup"]),
    ("低保对象核验", ["subsidy_verify"], ["household_verify", "enterprise_lookup"]),
    ("enterprise lookup", ["enterprise_lookup"], ["household_verify", "subsidy_verify"]),
    ("hujiheyan", ["household_verify"], ["subsidy_verify", "enterprise_lookup"]),  # the title's pinyin
    ("核验", ["household_verify", "subsidy_verify"], ["enterprise_lookup"]),
])
def test_the_search_page_finds_services(world: dict[str, Any], q: str, shown: list[str],
                                        not_shown: list[str]) -> None:
    page = _get(world, "analyst_mzj", f"/?q={q}")
    assert page.status_code == 200
    assert 'id="service-hits"' in page.text
    for name in shown:
        assert f'/{name}"' in page.text, name
    for name in not_shown:
        assert f'/{name}"' not in page.text, name


def test_a_search_without_a_service_word_shows_no_service_block(world: dict[str, Any]) -> None:
    for url in ("/", "/?q=weather"):
        assert 'id="service-hits"' not in _get(world, "analyst_mzj", url).text


def test_no_raw_id_number_on_the_service_pages(world: dict[str, Any]) -> None:
    caller = token_client(world["app"], world["tokens"]["analyst_cgj"])
    caller.get("/api/services/resident_profile/household_verify", params={"id_number": RAW_ID, "name": "张三"})
    for who in ("admin_dsj", "analyst_cgj", "analyst_mzj"):
        for url in ("/services", "/services/resident_profile/household_verify", "/services/resident_profile/subsidy_verify",
                    "/datasets/shared.resident_profile", "/?q=户籍核验"):
            page = _get(world, who, url)
            assert page.status_code == 200, (who, url)
            assert RAW_ID not in page.text, (who, url)
