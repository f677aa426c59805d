"""The catalog's quality views: warn / quarantined / failed runs, pass-rate history, masked samples, Data Docs."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from countyhub.catalog import Catalog
from countyhub.contracts.gate import GateResult, RuleResult
from countyhub.contracts.publish import Publication
from countyhub.flow.runtime import Runtime
from tests.fixtures.sharing_web import governed_app, token_client
from tests.unit.test_catalog import RAW_ID, county_entries, entry

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PROFILE, OVERVIEW, AUDIT = "shared.resident_profile", "shared.township_overview", "audit.resident_profile"
ALERTS = "shared.poverty_alerts"  # sorts before the others by name, but is not the worst


def rule(name: str, ok: bool, severity: str = "error", column: str | None = None, observed: object = 0,
         samples: list[dict] | None = None) -> dict:
    return {"rule": name, "kind": "custom", "column": column, "expectation": f"expect_{name}", "observed": observed,
            "threshold": "0", "success": ok, "severity": severity, "message": "" if ok else f"{name} failed",
            "samples": samples or []}


def run(cat: Catalog, dataset: str, run_id: str, day: int, ok: bool, rules: list[dict], **extra: object) -> None:
    start = T0 + timedelta(days=day)
    cat.record_gate_run(dataset, run_id, ok, "" if ok and not extra.get("warnings") else "see rules", rules, start,
                        start + timedelta(seconds=3), extra or None)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    cat = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    for e in county_entries():
        cat.register_dataset(e)
    cat.register_dataset(entry(ALERTS, "published", "返贫预警", "Poverty alerts", "dsj", "大竹县政务服务和大数据管理局",
                               upstream=[PROFILE]))
    good = [rule(f"r{i}", True) for i in range(4)]
    # resident_profile: passed 4/4, failed 2/4, quarantined 3/4, then warn 3/4 (a warning rule with samples).
    run(cat, PROFILE, "p0", 0, True, good, status="passed")
    run(cat, PROFILE, "p1", 1, False, good[:2] + [rule("unique_id", False, observed=2), rule("nn", False)],
        status="failed")
    run(cat, PROFILE, "p2", 2, True, good[:3] + [rule("valid_id", False, "quarantine", "id_number", 7)],
        status="quarantined", quarantined=7, quarantined_rules={"valid_id": 7}, published_version=3)
    run(cat, PROFILE, "p3", 3, True, good[:3] + [rule("mobile_format", False, "warn", "id_number", 1,
                                                      [{"id_number": RAW_ID, "name": "张三"}])],
        status="warn", warnings=1, published_version=4, data_docs="resident_profile/p3.html")
    run(cat, ALERTS, "q0", 0, True, good[:1] + [rule("valid_code", False, "quarantine", "township_code", 5)],
        status="quarantined", quarantined=5, quarantined_rules={"valid_code": 5})
    run(cat, OVERVIEW, "o0", 0, False, [rule("rows", False, observed=0)], status="failed")
    return cat


@pytest.fixture
def served(catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, str]]:
    docs = tmp_path / "home" / "data_docs" / "resident_profile"
    docs.mkdir(parents=True)
    (docs / "p3.html").write_text("<html><body>GE validation p3</body></html>", encoding="utf-8")
    return governed_app(monkeypatch, catalog, tmp_path / "home" / "data_docs")


@pytest.fixture
def client(served: tuple[Any, dict[str, str]]) -> TestClient:
    """An admin of dsj (the owner): every entry, samples, and the Data Docs of the audit zone."""
    app, tokens = served
    return token_client(app, tokens["admin"])


def test_data_docs_are_for_engineers_and_admins(served: tuple[Any, dict[str, str]]) -> None:
    app, tokens = served
    analyst = token_client(app, tokens["analyst"])
    assert "/data-docs/" not in analyst.get(f"/datasets/{PROFILE}").text
    assert analyst.get("/data-docs/resident_profile/p3.html").status_code == 403
    assert token_client(app, None).get("/data-docs/resident_profile/p3.html").status_code == 303  # to sign in
    assert token_client(app, tokens["admin"]).get("/data-docs/resident_profile/../../../x").status_code == 404


def test_dataset_page_warn_badge_pass_rate_history_samples_and_data_docs(client: TestClient) -> None:
    page = client.get(f"/datasets/{PROFILE}").text
    assert 'data-gate="warn"' in page and 'id="warn-flag"' in page and 'data-gate="passed"' not in page
    chart = page[page.index('id="gate-chart"'):page.index("</svg>", page.index('id="gate-chart"'))]
    assert re.findall(r'data-pass-rate="([\d.]+)"', chart) == ["1.0000", "0.5000", "0.7500", "0.7500"]
    assert re.findall(r'data-status="(\w+)"', chart) == ["passed", "failed", "quarantined", "warn"]
    assert "75%" in page and "3/4" in page
    failing = page[page.index('id="failing-rules"'):page.index("</table></div>", page.index('id="failing-rules"'))]
    assert 'data-rule="mobile_format"' in failing and 'data-severity="warn"' in failing
    assert 'data-samples-for="mobile_format"' in failing and "511724********1234" in failing
    assert RAW_ID not in page and "张三" not in page
    assert 'href="/data-docs/resident_profile/p3.html"' in page
    docs = client.get("/data-docs/resident_profile/p3.html")
    assert docs.status_code == 200 and "GE validation p3" in docs.text
    api = client.get(f"/api/datasets/{PROFILE}").json()
    assert api["gate_status"] == "warn" and api["latest_gate"]["published_version"] == 4


def test_quarantine_count_and_no_docs_link_without_a_page(client: TestClient) -> None:
    page = client.get(f"/datasets/{ALERTS}").text
    assert 'data-gate="quarantined"' in page
    quarantine = page[page.index('id="quarantine-count"'):page.index("</dd>", page.index('id="quarantine-count"'))]
    assert "<strong>5</strong>" in quarantine and "lake.quarantine.shared__poverty_alerts" in quarantine
    assert "valid_code: 5" in quarantine
    assert "data-docs-link" not in page  # this run has no Data Docs page


def test_quality_overview_counts_and_failing_first(client: TestClient) -> None:
    page = client.get("/quality").text
    totals = dict(re.findall(r'data-total="(\w+)">.*?<span class="sub">(\d+)</span>', page))
    assert totals == {"failed": "1", "warn": "1", "quarantined": "1", "passed": "0"}
    assert re.findall(r'<tr data-dataset="([\w.]+)" data-status="(\w+)"', page) == [
        (OVERVIEW, "failed"), (PROFILE, "warn"), (ALERTS, "quarantined")]
    row = page[page.index(f'data-dataset="{PROFILE}"'):page.index("</tr>", page.index(f'data-dataset="{PROFILE}"'))]
    assert "75%" in row and "(3/4)" in row and "3/4" in row and 'href="/data-docs/resident_profile/p3.html"' in row
    assert re.findall(r'data-pass-rate="([\d.]+)"', row) == ["1.0000", "0.5000", "0.7500", "0.7500"]
    assert [q["name"] for q in client.get("/api/quality").json()] == [OVERVIEW, PROFILE, ALERTS]


def test_department_page_lists_failing_first(client: TestClient) -> None:
    page = client.get("/departments/dsj").text
    table = page[page.index('id="department-quality-table"'):page.index("</table>", page.index("department-quality"))]
    assert re.findall(r'data-dataset="([\w.]+)"', table) == [OVERVIEW, PROFILE, ALERTS]
    listed = page[page.index('id="department-datasets"'):]
    assert re.findall(r'<div class="mono">([\w.]+)</div>', listed) == [OVERVIEW, PROFILE, ALERTS, AUDIT]


def test_data_docs_not_served_when_the_folder_is_missing(catalog: Catalog, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    app, tokens = governed_app(monkeypatch, catalog, tmp_path / "missing")
    client = token_client(app, tokens["admin"])
    assert "/data-docs/" not in client.get(f"/datasets/{PROFILE}").text
    assert client.get("/data-docs/resident_profile/p3.html").status_code == 404


def test_catalog_from_before_extra_columns_still_opens(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as con:  # the gate-run table as the first release created it, with one run
        con.execute("CREATE TABLE catalog_gate_runs (id INTEGER PRIMARY KEY, dataset VARCHAR(255) NOT NULL, "
                    "run_id VARCHAR(255) NOT NULL, success BOOLEAN NOT NULL, reason TEXT NOT NULL, "
                    "results_json TEXT NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME NOT NULL, "
                    "UNIQUE (dataset, run_id))")
        con.execute("INSERT INTO catalog_gate_runs VALUES (1, ?, 'old', 1, '', ?, '2024-04-30 08:00:00', "
                    "'2024-04-30 08:00:01')", [PROFILE, json.dumps([{"rule": "a", "success": True},
                                                                    {"rule": "b", "success": False, "severity": "warn"}])])
    cat = Catalog(f"sqlite:///{db}")
    for e in county_entries():
        cat.register_dataset(e)
    old = cat.get(PROFILE)["latest_gate"]
    assert old["status"] == "warn" and old["pass_rate"] == 0.5 and old["data_docs"] is None
    run(cat, PROFILE, "new", 0, True, [rule("a", True)], status="passed", data_docs="../../etc/passwd.html")
    new = cat.get(PROFILE)
    assert new["gate_status"] == "passed" and new["latest_gate"]["data_docs"] is None  # outside data_docs: dropped
    assert [h["pass_rate"] for h in new["gate_history"]] == [0.5, 1.0]
    assert Catalog(f"sqlite:///{db}").get(PROFILE)["gate_status"] == "passed"  # reopening adds nothing twice


def test_record_gate_stores_the_run_facts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from countyhub.flow import register

    monkeypatch.setattr("countyhub.contracts.runs.store_gate_run", lambda *a: None)  # the lake side is tested with the gate
    settings = SimpleNamespace(home=tmp_path, catalog_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
                               search_index_dir=tmp_path / "search-index", search_vocabulary=tmp_path / "none.yml")
    cat = Catalog(settings.catalog_url)
    for e in county_entries():
        cat.register_dataset(e)
    results = [RuleResult("rows", None, "expect_rows", 9, "1", True, "error"),
               RuleResult("valid_id", "id_number", "expect_valid_id", 2, "0", False, "quarantine", "2 invalid",
                          "custom", [{"id_number": RAW_ID}])]
    gate = GateResult("resident_profile", "lake.audit.resident_profile", "g1", True, results, "quarantine: 2",
                      T0, T0, 9, "1.0.0", quarantined={"valid_id": 2},
                      data_docs=str(tmp_path / "data_docs" / "resident_profile" / "g1.html"))
    publication = Publication("resident_profile", 5, 77, 7, T0, "g1", "1.0.0", quarantined=2)
    register.record_gate(Runtime(settings), SimpleNamespace(dataset="resident_profile", department="dsj"), gate, publication)
    got = Catalog(settings.catalog_url).get(PROFILE)
    latest = got["latest_gate"]
    assert got["gate_status"] == "quarantined" and got["published_version"] == 5
    assert (latest["quarantined"], latest["quarantined_rules"], latest["published_version"]) == (2, {"valid_id": 2}, 5)
    assert (latest["rules"], latest["rules_passed"], latest["data_docs"]) == (2, 1, "resident_profile/g1.html")
    assert RAW_ID not in str(got)
