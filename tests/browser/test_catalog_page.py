"""The catalog in a real headless Chromium: search in Chinese, open a dataset, read its schema, quality chart,
lineage picture and impact; the department and quality overview pages; a screenshot of each page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_search_open_dataset_and_see_quality(catalog_server: Site, browser_page, screenshots: Path) -> None:
    page = browser_page
    sign_in(page, catalog_server, "admin")  # the admin sees the raw zone the lineage leads to
    assert "大竹县政务数据目录" in page.title()
    page.screenshot(path=str(screenshots / "catalog-home.png"), full_page=True)

    page.fill("input[name=q]", "居民画像")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/?q=*")
    results = page.locator("#results")
    assert "居民综合画像" in results.inner_text()
    assert page.locator("#facets [data-facet=theme]").count() == 1
    page.screenshot(path=str(screenshots / "catalog-search.png"), full_page=True)

    page.get_by_role("link", name="居民综合画像").first.click()
    page.wait_for_url("**/datasets/shared.resident_profile")
    assert page.locator("h1").inner_text() == "居民综合画像"
    schema = page.locator("#schema").inner_text()
    for column in ["id_number", "township_code", "receives_subsidy", "敏感"]:
        assert column in schema
    chart = page.locator("#gate-chart rect")
    assert chart.count() == 8
    assert page.locator("#gate-chart rect[data-success=false]").count() == 2
    assert page.locator("#quality [data-gate=failed]").count() >= 1  # the latest run failed
    assert "id_number 有 3 个重复值" in page.locator("#quality").inner_text()
    assert "SELECT * FROM shared.resident_profile LIMIT 10" in page.locator("#how-to-query").inner_text()
    metadata = page.locator("#metadata").inner_text()
    assert "主题信息资源" in metadata and "1.0.0" in metadata
    picture = page.locator("#lineage-picture")
    assert picture.is_visible()
    assert picture.locator("[data-node='shared.township_overview']").count() == 1
    assert picture.locator("[data-node='source:户籍管理系统 (sql) / persons']").count() == 1
    # source system -> raw_gaj.persons -> resident_profile <- raw_mzj.subsidy_roll; resident_profile -> overview
    assert picture.locator("path").count() == 4
    page.screenshot(path=str(screenshots / "catalog-dataset.png"), full_page=True)

    page.locator("#lineage a.badge", has_text="township_code").click()
    page.wait_for_url("**impact=township_code*")
    impact = page.locator("#impact-result").inner_text()
    assert "shared.township_overview.township_code" in impact
    assert page.locator("#lineage-picture rect.affected").count() == 1

    page.locator("#lineage ul a", has_text="raw_gaj.persons").first.click()
    page.wait_for_url("**/datasets/raw_gaj.persons")
    samples = page.locator("#samples").inner_text()
    assert "511724********1230" in samples and "51172419900101123" not in samples
    assert "2024-05-08" in page.locator("#freshness").inner_text()
    assert "户政大队数据管理员" in page.locator("#steward").inner_text()
    page.screenshot(path=str(screenshots / "catalog-raw-dataset.png"), full_page=True)


def test_quality_overview_page(catalog_server: Site, browser_page, screenshots: Path) -> None:
    page = browser_page
    sign_in(page, catalog_server, "admin")
    page.click("#nav-quality")
    page.wait_for_url("**/quality*")
    row = page.locator("#quality-table tr[data-dataset='shared.resident_profile']")
    assert "门禁未通过" in row.inner_text() and "6/8" in row.inner_text()
    assert row.locator("svg rect").count() == 8
    totals = page.locator("#quality-totals")
    for status, n in [("failed", "1"), ("warn", "1"), ("quarantined", "0"), ("passed", "0")]:
        assert totals.locator(f"[data-total={status}] .sub").inner_text() == n
    order = page.locator("#quality-table tr[data-dataset]")
    assert [order.nth(i).get_attribute("data-dataset") for i in range(order.count())] == [
        "shared.resident_profile", "shared.township_overview"]  # failing first
    page.screenshot(path=str(screenshots / "catalog-quality.png"), full_page=True)

    page.locator("#quality-table a", has_text="乡镇综合概况").click()
    page.wait_for_url("**/datasets/shared.township_overview")
    assert page.locator("#warn-flag [data-flag=warn]").is_visible()
    bars = page.locator("#gate-chart rect")
    rates = [bars.nth(i).get_attribute("data-pass-rate") for i in range(bars.count())]
    heights = [float(bars.nth(i).bounding_box()["height"]) for i in range(bars.count())]
    assert rates == ["0.7500", "0.7500"] and heights[0] == heights[1] < 64  # 3 of 4 rules: three quarters high
    failing = page.locator("#failing-rules").inner_text()
    assert "contact_mobile" in failing and "138****5678" in failing and "13812345678" not in failing
    page.screenshot(path=str(screenshots / "catalog-dataset-warn.png"), full_page=True)
    page.goto(catalog_server + page.locator("#data-docs-link").get_attribute("href"))
    assert "Validation results run-w" in page.locator("h1").inner_text()


def test_english_toggle_and_pinyin(catalog_server: Site, browser_page, screenshots: Path) -> None:
    page = browser_page
    sign_in(page, catalog_server, "admin")
    page.goto(catalog_server + "/?lang=en")
    page.fill("input[name=q]", "qiye")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**q=qiye*")
    assert "lang=en" in page.url
    assert "市场主体登记信息" in page.locator("#results").inner_text()
    page.locator("#results a", has_text="大竹县市场监督管理局").first.click()
    page.wait_for_url("**/departments/scjgj*")
    assert "Datasets" in page.content()
    page.screenshot(path=str(screenshots / "catalog-department-en.png"), full_page=True)
    page.goto(catalog_server + "/datasets/shared.resident_profile?lang=en")
    assert "Column lineage" in page.locator("#lineage").inner_text()
    page.screenshot(path=str(screenshots / "catalog-dataset-en.png"), full_page=True)
