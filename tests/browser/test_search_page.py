"""Searching on the catalog page in headless Chromium as county staff type: a synonym, a wrong character followed
by the page's 'did you mean' link, and a filter that hid the hits followed by the page's way out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_staff_words_did_you_mean_and_hits_outside_the_filter(catalog_server: Site, browser_page,
                                                               screenshots: Path) -> None:
    page = browser_page
    sign_in(page, catalog_server, "admin")
    page.fill("input[name=q]", "营业执照")  # what everyone calls the market-entity registry
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/?q=*")
    assert "市场主体登记信息" in page.locator("#results").inner_text()

    page.fill("input[name=q]", "户集")  # 籍 mistyped as 集
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/?q=%E6%88%B7%E9%9B%86*")
    assert page.locator("#total").inner_text() == "0"
    page.screenshot(path=str(screenshots / "catalog-did-you-mean.png"), full_page=True)
    page.locator("#did-you-mean a", has_text="户籍").first.click()
    page.wait_for_url("**/?q=%E6%88%B7%E7%B1%8D*")
    assert "户籍人口" in page.locator("#results").inner_text()

    page.goto(catalog_server + "/?q=%E6%88%B7%E7%B1%8D&department=scjgj")  # 户籍, in the wrong department
    assert page.locator("#total").inner_text() == "0"
    page.locator("#found-elsewhere a", has_text="大竹县公安局").click()
    page.wait_for_url("**department=gaj*")
    assert "户籍人口" in page.locator("#results").inner_text()
