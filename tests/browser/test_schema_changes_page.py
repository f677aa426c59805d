"""After a load that met schema drift, the raw stream's page in real headless Chromium shows what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from countyhub.core.settings import Settings
from tests.browser.conftest import serve, sign_in
from tests.fixtures.drift_fixtures import DATASET, drifted_catalog

pytestmark = pytest.mark.browser


def test_drift_load_is_visible_on_the_dataset_page(settings: Settings, tmp_path: Path, browser_page,
                                                   screenshots: Path) -> None:
    catalog, (_, drift_load) = drifted_catalog(settings, tmp_path / "rsj")
    day = drift_load.started_at.date().isoformat()
    with serve(catalog) as url:
        page = browser_page
        sign_in(page, url, "admin")  # a raw stream: engineers and admins
        page.goto(f"{url}/datasets/{DATASET}")
        changes = page.locator("#schema-changes")
        assert changes.is_visible()
        added = changes.locator("tr[data-change=added][data-column=phone]")
        assert added.count() == 1 and "新增" in added.inner_text() and "VARCHAR" in added.inner_text()
        assert drift_load.load_id in added.inner_text()
        dropped = changes.locator("tr[data-change=dropped][data-column=grade]").inner_text()
        assert "删除" in dropped and "BIGINT" in dropped
        marker = page.locator("#schema tr[data-column=phone] [data-new-since]")
        assert marker.is_visible() and marker.inner_text() == f"新增于 {day}"
        assert page.locator("#schema tr[data-column=name] [data-new-since]").count() == 0
        assert page.locator(f"#schema tr[data-column=grade] [data-dropped-since='{day}']").is_visible()
        page.screenshot(path=str(screenshots / "catalog-schema-changes.png"), full_page=True)

        page.goto(f"{url}/datasets/{DATASET}?lang=en")
        assert page.locator("#schema-changes h2").inner_text().startswith("Schema changes")
        assert page.locator("#schema tr[data-column=phone] [data-new-since]").inner_text() == f"new since {day}"
