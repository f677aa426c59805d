"""Sign-in and governed sharing in a real headless Chromium: the sign-in redirect, what an analyst of another
department sees of a conditional dataset, its request through the page form, the steward's approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_analyst_requests_access_and_the_steward_approves(catalog_server: Site, browser_page,
                                                          screenshots: Path) -> None:
    page = browser_page
    page.goto(catalog_server + "/datasets/shared.resident_profile")
    page.wait_for_url("**/login?next=*")  # no session: sent to sign in, and back afterwards
    page.fill("#token", "chub_not_a_real_token_at_all_000000")
    page.click("#sign-in")
    assert "unknown or revoked" in page.locator("#login-error").inner_text()
    page.fill("#token", catalog_server.tokens["analyst"])
    page.click("#sign-in")
    page.wait_for_url("**/datasets/shared.resident_profile")
    header = page.locator("#signed-in")
    assert header.get_attribute("data-user") == "analyst_mzj" and "mzj" in header.inner_text()
    assert page.locator("#access").get_attribute("data-rows") == "no"
    assert "no approved grant for department mzj" in page.locator("#access").inner_text()
    assert "511724********" not in page.locator("#samples").inner_text()  # conditional: no samples
    assert "id_number" in page.locator("#schema").inner_text()  # the schema is still shown
    assert page.locator("#nav-requests").count() == 0  # not a steward
    page.goto(catalog_server + "/")
    assert "户籍人口" not in page.locator("#results").inner_text()  # the raw zone is not listed
    page.goto(catalog_server + "/datasets/shared.resident_profile")
    form = page.locator("#request-access")
    form.locator("input[value=id_number]").check()
    form.locator("input[value=name]").check()
    page.fill("#purpose", "低保资格核查")
    page.fill("#legal-basis", "《社会救助暂行办法》第十一条")
    page.fill("#days", "30")
    page.screenshot(path=str(screenshots / "catalog-request-access.png"), full_page=True)
    page.click("#submit-request")
    page.wait_for_url("**requested=*")
    assert "#" in page.locator("#requested").inner_text()
    page.click("#sign-out")
    page.wait_for_url("**/login")

    sign_in(page, catalog_server, "steward", "/requests")
    row = page.locator("#requests tr[data-request]")
    assert row.count() == 1 and "低保资格核查" in row.inner_text() and "id_number, name" in row.inner_text()
    page.screenshot(path=str(screenshots / "catalog-requests.png"), full_page=True)
    row.locator("button[data-approve]").click()
    page.wait_for_url("**/requests?decided=*")
    assert page.locator("#requests tr[data-request]").count() == 0
    page.click("#nav-audit")
    page.wait_for_url("**/audit")
    actions = page.locator("#audit tr[data-action]")
    seen = {actions.nth(i).get_attribute("data-action") for i in range(actions.count())}
    assert {"grant_request", "grant_approve"} <= seen
    page.screenshot(path=str(screenshots / "catalog-audit.png"), full_page=True)
