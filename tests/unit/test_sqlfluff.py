"""Every dbt model is sqlfluff-clean under the repository's .sqlfluff (DuckDB dialect, Jinja templater)."""

from __future__ import annotations

import json
import subprocess
import sys

from countyhub.core.settings import PROJECT_DIR


def test_dbt_models_pass_sqlfluff() -> None:
    # From the repository root: .sqlfluff's macro and library paths are relative to it.
    proc = subprocess.run([sys.executable, "-m", "sqlfluff", "lint", "dbt_project/models", "--format", "json",
                           "--nofail"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    files = json.loads(proc.stdout)
    assert len(files) >= 10, "sqlfluff found no models"
    problems = [f"{f['filepath']}:{v['start_line_no']}: {v['code']} {v['description']}"
                for f in files for v in f["violations"]]
    assert not problems, "run `sqlfluff fix dbt_project/models`:\n" + "\n".join(problems)
