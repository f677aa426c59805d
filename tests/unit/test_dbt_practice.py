"""dbt beyond `build`: source freshness from the loads' _loaded_at, docs generate, descriptions in the catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from countyhub.core.settings import Settings
from countyhub.flow.build import run_dbt
from countyhub.flow.dbt_prep import DbtProject, prepare_for
from countyhub.flow.register import register_all
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.lake import Lake
from tests.fixtures.lake_fixtures import raw_tables, write_raw

DBT = [sys.executable, "-c", "import sys; from dbt.cli.main import cli; sys.exit(cli())"]


def dbt(project: DbtProject, *command: str) -> subprocess.CompletedProcess[str]:
    """One dbt command on a prepared project, in its own process as the build runs it."""
    return subprocess.run([*DBT, *command, *project.args()], cwd=project.project_dir, capture_output=True,
                          text=True, check=False)


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.dbt
def test_freshness_docs_and_descriptions_in_the_catalog(settings: Settings, runtime: Runtime) -> None:
    lake = Lake(settings)
    tables = raw_tables(persons=60)
    now = datetime.now()
    # Civil affairs' last export landed 200 days ago (monthly schedule: warn after 62 days, error after 124).
    write_raw(lake, {k: v for k, v in tables.items() if not k.startswith("mzj.")}, loaded_at=now)
    write_raw(lake, {k: v for k, v in tables.items() if k.startswith("mzj.")}, loaded_at=now - timedelta(days=200))
    project = prepare_for(lake)
    run_dbt(lake, project=project)

    proc = dbt(project, "source", "freshness")
    assert proc.returncode == 1, proc.stdout[-2000:]  # one source past its error threshold
    status = {r["unique_id"]: r["status"] for r in _json(project.target_dir / "sources.json")["results"]}
    late = {uid: s for uid, s in status.items() if uid.startswith("source.countyhub.raw_mzj.")}
    assert "source.countyhub.raw_mzj.subsidy_roll" in late and set(late.values()) == {"error"}
    assert {s for uid, s in status.items() if uid not in late} == {"pass"}, status

    proc = dbt(project, "docs", "generate")
    assert proc.returncode == 0, proc.stdout[-2000:]
    catalog = _json(project.target_dir / "catalog.json")
    inventory = catalog["nodes"]["model.countyhub.grid_facility_inventory"]
    assert inventory["metadata"]["schema"] == "audit"
    assert {"grid_code", "facility_type", "facilities_total"} <= {c.lower() for c in inventory["columns"]}
    assert "source.countyhub.raw_cgj.cases" in catalog["sources"]

    # The catalog reads dbt's manifest (register_all): a mart's and its columns' descriptions come from there.
    register_all(runtime)
    entry = runtime.catalog.get("audit.grid_facility_inventory")
    assert entry is not None and "网格部件设施清单" in entry["description"]
    columns = {c["name"]: c["description"] for c in entry["columns"]}
    assert columns["facilities_damaged"] == "损坏" and columns["facility_type"] == "部件类型"
