"""Browser-tier fixtures: a catalog served by uvicorn in a thread, and Debian's headless Chromium via Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from countyhub.catalog import Catalog, Column, DatasetEntry
from countyhub.catalog.lineage_store import ColumnEdge
from countyhub.catalog.web import create_app
from tests.fixtures.servers import free_port, uvicorn_thread
from tests.fixtures.sharing_web import make_sharing

CHROMIUM = Path(os.environ.get("COUNTYHUB_CHROMIUM", "/usr/bin/chromium"))
# Without the networking flags Chromium keeps trying to reach Google services on an offline machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _fill(catalog: Catalog) -> None:
    gaj, dsj = "大竹县公安局", "大竹县政务服务和大数据管理局"
    persons = [Column("person_id", "INTEGER", "人员编号", "internal"),
               Column("id_number", "VARCHAR", "公民身份号码", "sensitive"),
               Column("name", "VARCHAR", "姓名", "sensitive"), Column("gender", "VARCHAR", "性别", "internal"),
               Column("township_code", "VARCHAR", "乡镇代码", "public"),
               Column("phone", "VARCHAR", "手机号码", "sensitive")]
    catalog.register_dataset(DatasetEntry(
        "raw_gaj.persons", "raw_stream", "户籍人口", "Registered residents", "户籍管理系统中的登记人口", "gaj", gaj,
        "conditional", "sensitive", persons, keywords=["户籍", "人口", "residents"], update_cycle="每日 daily",
        themes=["人口"], steward="户政大队数据管理员", contact="data@gaj.dazhu.example.gov.cn",
        origin="户籍管理系统 (sql) / persons",
        row_count=1200, sample_rows=[{"person_id": i, "id_number": f"51172419900101{1230 + i}", "name": n,
                                      "gender": g, "township_code": "511724100", "phone": f"1381234567{i}"}
                                     for i, (n, g) in enumerate([("张三", "男"), ("李秀英", "女")])]))
    catalog.register_dataset(DatasetEntry(
        "shared.resident_profile", "published", "居民综合画像", "Resident profile",
        "一人一行的居民综合画像：户籍、社会救助（低保）与企业法人信息。", "dsj", dsj, "conditional", "sensitive",
        persons[:5] + [Column("receives_subsidy", "BOOLEAN", "是否享受救助", "internal")],
        upstream=["raw_gaj.persons", "raw_mzj.subsidy_roll"], keywords=["画像", "居民", "resident"],
        contract="contracts/dsj/resident_profile.odcs.yaml", update_cycle="每日 daily", row_count=1200,
        themes=["人口", "社会保障"], contract_version="1.0.0", steward="大数据局数据治理科"))
    catalog.register_dataset(DatasetEntry(
        "shared.township_overview", "published", "乡镇综合概况", "Township overview", "每个乡镇一行的综合统计。", "dsj",
        dsj, "unconditional", "public", [Column("township_code", "VARCHAR", "乡镇代码", "public"),
                                        Column("residents", "INTEGER", "户籍人口数", "public")],
        upstream=["shared.resident_profile"], keywords=["乡镇", "township"], themes=["人口"]))
    catalog.set_column_lineage(
        [ColumnEdge("shared.resident_profile", c, "raw_gaj.persons", c, "identity")
         for c in ("person_id", "id_number", "name", "gender", "township_code")]
        + [ColumnEdge("shared.township_overview", "residents", "shared.resident_profile", "person_id", "derived"),
           ColumnEdge("shared.township_overview", "township_code", "shared.resident_profile", "township_code",
                      "identity")])
    catalog.register_dataset(DatasetEntry(
        "raw_scjgj.enterprises", "raw_stream", "市场主体登记信息", "Registered enterprises", "企业登记信息接口",
        "scjgj", "大竹县市场监督管理局", "unconditional", "public", [Column("uscc", "VARCHAR", "统一社会信用代码")],
        keywords=["企业", "enterprise"]))
    start = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    for day, ok in enumerate([True, True, False, True, True, True, True, False]):
        t = start + timedelta(days=day)
        results = [{"rule": "row_count", "column": None, "expectation": "rows > 0", "observed": 1200,
                    "threshold": 1, "success": True, "severity": "error"},
                   {"rule": "unique_id_number", "column": "id_number", "expectation": "unique",
                    "observed": 0 if ok else 3, "threshold": 0, "success": ok, "severity": "error"}]
        catalog.record_gate_run("shared.resident_profile", f"run-{day}", ok, "" if ok else "id_number 有 3 个重复值",
                                results, t, t + timedelta(seconds=4))
        catalog.record_load("raw_gaj.persons", f"load-{day}", 1200, "success", t, t + timedelta(seconds=30))
    catalog.record_publication("shared.resident_profile", 6, 42, 1200, start + timedelta(days=7))
    # township_overview: quarantined rows, then published with a failing warning rule (masked samples, Data Docs).
    rows = [{"rule": f"r{i}", "column": None, "expectation": "rows > 0", "observed": 18, "threshold": "1",
             "success": True, "severity": "error"} for i in range(3)]
    grid = {"rule": "grid_exists", "column": "township_code", "expectation": "foreign key", "observed": 4,
            "threshold": "0", "success": False, "severity": "quarantine", "message": "4 rows with unknown grid"}
    phone = {"rule": "contact_mobile", "column": "township_code", "expectation": "expect_valid_cn_mobile",
             "observed": 1, "threshold": "0", "success": False, "severity": "warn", "message": "1 invalid mobile",
             "samples": [{"township_code": "511724100", "residents": "联系 13812345678"}]}
    for day, (status, results, extra) in enumerate([
            ("quarantined", rows + [grid], {"quarantined": 4, "quarantined_rules": {"grid_exists": 4}}),
            ("warn", rows[:2] + [grid | {"observed": 0, "success": True}, phone],
             {"warnings": 1, "data_docs": "township_overview/run-w.html"})]):
        t = start + timedelta(days=6 + day)
        catalog.record_gate_run("shared.township_overview", f"run-{status}", True, f"{status} run", results, t, t,
                                {"status": status, **extra})


class Site(str):
    """The served base URL (a str, so `site + "/path"` works) with the API tokens of its users by role."""

    tokens: dict[str, str]


USERS = (("admin", "dsj"), ("steward", "dsj"), ("analyst", "mzj"))


@contextmanager
def serve(catalog: Catalog, docs: Path | None = None) -> Iterator[Site]:
    """Serve `catalog` on a free port with a real uvicorn in a background thread; yields the base URL, with an
    admin and a steward of dsj and an analyst of mzj created for signing in."""
    port = free_port()
    with pytest.MonkeyPatch.context() as monkeypatch:
        sharing = make_sharing(monkeypatch, catalog)
        site = Site(f"http://127.0.0.1:{port}")
        site.tokens = {role: sharing.users.add(f"{role}_{dept}", dept, role)[1] for role, dept in USERS}
        with uvicorn_thread(create_app(catalog, sharing, docs), port):
            yield site


def sign_in(page: object, site: Site, role: str, goto: str = "/") -> None:
    """Sign in through the /login form, as a person would: paste the token, press the button."""
    page.goto(f"{site}/login?next={goto}")
    page.fill("#token", site.tokens[role])
    page.click("#sign-in")
    page.wait_for_selector("#signed-in")


@pytest.fixture
def catalog_server(tmp_path: Path) -> Iterator[Site]:
    """The catalog site on a free port, served by a real uvicorn in a background thread (with one Data Docs page)."""
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    _fill(catalog)
    docs = tmp_path / "data_docs"
    (docs / "township_overview").mkdir(parents=True)
    (docs / "township_overview" / "run-w.html").write_text(
        "<!doctype html><title>Data Docs run-w</title><h1>Validation results run-w</h1>", encoding="utf-8")
    with serve(catalog, docs) as url:
        yield url


@pytest.fixture
def screenshots() -> Path:
    """Where page screenshots go (test-artifacts/ at the repo root, gitignored), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A Playwright page in Debian's Chromium; missing Chromium fails in CI and skips on a laptop."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            yield page
        finally:
            browser.close()
