"""DAG parse time: `python -m bench dags [--quick]` — a county of 50 departments, each DAG file parsed as Airflow's
dag-processor parses it (a child forked from a process that has Airflow imported), target under 1 s per file.

The 50 department files are copies of departments/*.yml under new codes; `countyhub dags write` makes their DAG
files. Each file is parsed in its own fresh child, so it pays for every countyhub import it makes.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from countyhub.core.departments import load_department
from countyhub.core.settings import PROJECT_DIR

TARGET_SECONDS = 1.0


def _county(root: Path, departments: int) -> tuple[Path, Path]:
    """A departments folder of `departments` files (copies of the real ones with sources) and its DAG files."""
    folder, dags = root / "departments", root / "dags"
    folder.mkdir()
    dags.mkdir()
    originals = [p for p in sorted((PROJECT_DIR / "departments").glob("*.yml")) if load_department(p).sources]
    for n in range(departments):
        source = originals[n % len(originals)]
        code = f"{source.stem}{n:02d}"
        text = re.sub(r"(?m)^code: \S+", f"code: {code}", source.read_text(encoding="utf-8"))
        (folder / f"{code}.yml").write_text(text, encoding="utf-8")
    # The wiring and what it needs; the DAG files themselves are written below for this folder.
    shutil.copytree(PROJECT_DIR / "dags", dags, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("ingest_*.py", "county_*.py", "__pycache__"))
    subprocess.run([str(Path(sys.executable).parent / "countyhub"), "dags", "write", "--dags-dir", str(dags)],
                   env={**os.environ, "COUNTYHUB_DEPARTMENTS_DIR": str(folder)}, check=True, capture_output=True)
    return folder, dags


def _parse_in_child(path: Path) -> tuple[float, int]:
    """Seconds to parse one DAG file in a forked child, and how many DAGs it gave (as the dag-processor does)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, report, leave without running the parent's cleanup
        os.close(read)
        try:
            from airflow.dag_processing.dagbag import DagBag

            started = time.perf_counter()
            bag = DagBag(dag_folder=str(path), safe_mode=True)
            took = time.perf_counter() - started
            errors = len(bag.import_errors)
            os.write(write, f"{took} {len(bag.dags) if not errors else -errors}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        reported = pipe.read().split()
    os.waitpid(pid, 0)
    return (float(reported[0]), int(reported[1])) if reported else (float("nan"), 0)


def _manifest(home: Path) -> bool:
    """Give the scratch home the last dbt manifest of this machine's own home, if any: with one, county_build
    lays out a task per dbt node (astronomer-cosmos), which is what a deployment parses after its first build."""
    from countyhub.core.settings import load_settings
    from countyhub.flow.build import manifest_file

    found = manifest_file(load_settings())
    if not found.is_file():
        return False
    target = home / "dbt" / "target" / "manifest.json"
    target.parent.mkdir(parents=True)
    shutil.copy(found, target)
    return True


def main(flags: list[str]) -> int:
    departments = 10 if "--quick" in flags else 50
    with tempfile.TemporaryDirectory(prefix="countyhub-bench-dags-") as tmp:
        with_dbt_tasks = _manifest(Path(tmp) / "home")
        folder, dags = _county(Path(tmp), departments)
        os.environ.update({"COUNTYHUB_DEPARTMENTS_DIR": str(folder), "AIRFLOW_HOME": str(Path(tmp) / "airflow"),
                           "COUNTYHUB_HOME": str(Path(tmp) / "home"),
                           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(dags)})
        sys.path.insert(0, str(dags))  # Airflow puts the DAGs folder on sys.path; the files import the wiring
        import airflow.sdk  # noqa: F401  the dag-processor has Airflow imported before it forks
        from airflow.dag_processing.dagbag import DagBag  # noqa: F401

        kinds: dict[str, list[float]] = {"ingest_<code>.py": [], "county_build.py (first parse)": [],
                                         "county_build.py": [], "county_freshness.py": []}
        failed = []
        for path in sorted(dags.glob("*.py")):
            if path.name.startswith("countyhub_"):
                continue
            runs = 4 if path.name == "county_build.py" else 1  # the first parse fills the outline cache
            for n in range(runs):
                took, found = _parse_in_child(path)
                if found != 1:
                    failed.append(path.name)
                kind = "ingest_<code>.py" if path.name.startswith("ingest_") else path.name
                kinds[f"{kind} (first parse)" if runs > 1 and n == 0 else kind].append(took)
    layout = "with a task per dbt node (a manifest from this machine's home)" if with_dbt_tasks else \
        "without dbt node tasks (no manifest in this machine's home: run `countyhub run` once)"
    print(f"\nDAG parse time, {departments} departments, each file in a fresh forked child (target < {TARGET_SECONDS} s); "
          f"county_build {layout}")
    print("| DAG file | files | median s | max s | under target |")
    print("| --- | ---: | ---: | ---: | --- |")
    over = False
    for kind, times in kinds.items():
        worst = max(times)
        over = over or worst >= TARGET_SECONDS
        print(f"| {kind} | {len(times)} | {statistics.median(times):.3f} | {worst:.3f} | "
              f"{'yes' if worst < TARGET_SECONDS else 'no'} |")
    if failed:
        print(f"files that did not give exactly one DAG: {', '.join(failed)}")
    return 1 if failed else 0
