"""When a build would do nothing the last one did not (what lets county_build skip a run its loads started while
the previous run waited): only with no load since that build started, the same dbt project and the same contracts."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from countyhub.cli.demo import demo_api, run_demo
from countyhub.core.settings import load_settings
from countyhub.flow import changes
from countyhub.flow.run import ingest_all, up_to_date
from countyhub.flow.runtime import Runtime

pytestmark = pytest.mark.e2e


def test_only_a_county_with_nothing_new_since_its_last_build_is_up_to_date(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / "home"))
    runtime = Runtime(load_settings(), os.environ)
    assert up_to_date(runtime) is None  # no build yet
    assert run_demo(runtime, persons=600).ok  # 600: every gate passes, so the build is complete

    started = changes.read_build(runtime.settings).started_at
    why = up_to_date(runtime)
    assert why is not None and f"{started:%Y-%m-%d %H:%M:%S}" in why

    # A contract edited since: its dataset must be gated again.
    edited = tmp_path / "contracts"
    shutil.copytree(runtime.settings.contracts_dir, edited)
    elsewhere = Runtime(dataclasses.replace(runtime.settings, contracts_dir=edited), os.environ)
    assert up_to_date(elsewhere) is not None  # the same contracts in another folder
    contract = min(edited.glob("*/*.odcs.yaml"))
    contract.write_text(contract.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    assert up_to_date(elsewhere) is None
    # A dbt model edited since: it must be built again.
    project = tmp_path / "dbt_project"
    shutil.copytree(runtime.settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs"))
    elsewhere = Runtime(dataclasses.replace(runtime.settings, dbt_project_dir=project), os.environ)
    assert up_to_date(elsewhere) is not None  # the same project in another folder
    model = min(project.glob("models/**/*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- reviewed again\n", encoding="utf-8")
    assert up_to_date(elsewhere) is None
    assert up_to_date(runtime) is not None  # the edits were to copies

    # Loads since, even ones that changed nothing: the catalog must show them.
    with demo_api(runtime) as demo:
        failures: list = []
        loads = ingest_all(demo, None, failures)
    assert loads and not failures
    assert not changes.changed_streams(runtime.lake, started)  # nothing changed at any source
    assert up_to_date(runtime) is None
