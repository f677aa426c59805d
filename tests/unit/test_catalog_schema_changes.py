"""Schema changes recorded by loads are shown in the catalog: page, JSON API and `countyhub show`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from countyhub.cli.main import app
from countyhub.core.settings import Settings
from tests.fixtures.drift_fixtures import DATASET, drifted_catalog
from tests.fixtures.sharing_web import governed_app, token_client


def test_schema_changes_reach_the_catalog_entry_api_page_and_cli(settings: Settings, tmp_path: Path,
                                                                 monkeypatch) -> None:
    catalog, (_, drift_load) = drifted_catalog(settings, tmp_path / "rsj")
    assert sorted(drift_load.schema_changes) == ["grade dropped", "phone added"]
    entry = catalog.get(DATASET)
    changes = {(c["column"], c["change"], c["old_type"], c["new_type"], c["load_id"]) for c in entry["schema_changes"]}
    assert changes == {("phone", "added", None, "VARCHAR", drift_load.load_id),
                       ("grade", "dropped", "BIGINT", None, drift_load.load_id)}
    day = drift_load.started_at.date().isoformat()
    assert {c["name"]: c["since"] for c in entry["columns"]}["phone"] == day
    assert {c["name"]: c["since"] for c in entry["columns"]}["name"] == ""  # there from the first load
    assert {c["name"]: c["dropped"] for c in entry["columns"]}["grade"] == day  # kept in raw, NULL from now on

    sharing_app, tokens = governed_app(monkeypatch, catalog)
    client = token_client(sharing_app, tokens["engineer"])  # a raw stream: engineers and admins
    api = client.get(f"/api/datasets/{DATASET}").json()
    assert {c["column"] for c in api["schema_changes"]} == {"phone", "grade"}
    page = client.get(f"/datasets/{DATASET}?lang=en").text
    assert 'id="schema-changes"' in page and f'data-new-since="{day}"' in page and "BIGINT → —" in page

    monkeypatch.setenv("COLUMNS", "200")
    shown = CliRunner().invoke(app, ["show", DATASET])
    assert shown.exit_code == 0, shown.output
    assert {c["column"] for c in json.loads(shown.output)["schema_changes"]} == {"phone", "grade"}


def test_search_on_a_narrow_terminal_folds_names_instead_of_cutting_them(settings: Settings, tmp_path: Path,
                                                                        monkeypatch) -> None:
    drifted_catalog(settings, tmp_path / "rsj")
    monkeypatch.setenv("COLUMNS", "60")
    found = CliRunner().invoke(app, ["search", "insured"])
    assert found.exit_code == 0, found.output
    assert "…" not in found.output
    first_cells = [line.split("│")[1].strip() for line in found.output.splitlines() if line.startswith("│")]
    assert DATASET in "".join(first_cells)
