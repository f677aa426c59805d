"""`countyhub dags write|pools`: the Airflow DAG files and pools, generated from departments/*.yml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from countyhub.cli.common import ConfigOpt, console, fail, runtime
from countyhub.core.departments import DepartmentFileError, load_department
from countyhub.core.settings import PROJECT_DIR

dags_app = typer.Typer(help="Airflow: one ingest DAG file per department file, the county build DAG, the pools.",
                       no_args_is_help=True)
DagsDir = Annotated[Path, typer.Option("--dags-dir", help="The Airflow DAGs folder (default: the project's dags/).")]
INGEST = '''"""Airflow DAG ingest_{code}: {name}'s loads (written by `countyhub dags write` from departments/{code}.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("{code}")
'''
FRESHNESS = '''"""Airflow DAG county_freshness: shared datasets against their SLAs, hourly (written by `countyhub dags write`)."""

from countyhub_wiring import freshness_dag

dag = freshness_dag()
'''
BUILD = '''"""Airflow DAG county_build: dbt, a gate and publish per contract, the catalog (written by `countyhub dags write`)."""

from countyhub_wiring import build_dag

dag = build_dag()
'''


def dag_files(departments_dir: Path) -> dict[str, str]:
    """{file name: text} of every generated DAG file, in department-code order. A department file that does not
    parse still gets its DAG file: Airflow then shows its error as that file's import error, and only there."""
    files = {"county_build.py": BUILD, "county_freshness.py": FRESHNESS}
    for path in sorted(departments_dir.glob("*.yml")):
        try:
            department = load_department(path)
        except DepartmentFileError:
            files[f"ingest_{path.stem}.py"] = INGEST.format(code=path.stem, name=path.stem)
            continue
        if department.sources:
            files[f"ingest_{department.code}.py"] = INGEST.format(code=department.code, name=department.name)
    return files


@dags_app.command("write")
def dags_write(
    dags_dir: DagsDir = PROJECT_DIR / "dags",
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if a DAG file is missing, stale "
                                        "or left over from a removed department.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Write dags/ingest_<code>.py for each department file with sources, dags/county_build.py and
    dags/county_freshness.py.

    Run it after adding or removing a department file (editing one needs nothing: the DAG reads it when parsed).
    One file per department means a broken department file breaks only its own DAG.
    """
    rt = runtime(config)
    wanted = dag_files(rt.settings.departments_dir)
    present = {p.name: p.read_text(encoding="utf-8") for p in dags_dir.glob("ingest_*.py")}
    for county in (dags_dir / name for name in ("county_build.py", "county_freshness.py")):
        if county.is_file():
            present[county.name] = county.read_text(encoding="utf-8")
    stale = sorted(n for n, text in wanted.items() if present.get(n) != text)
    extra = sorted(set(present) - set(wanted))
    if check:
        if stale or extra:
            fail(f"{dags_dir}: DAG files out of date with {rt.settings.departments_dir} "
                 f"(missing or stale: {', '.join(stale) or 'none'}; left over: {', '.join(extra) or 'none'}); "
                 "run `countyhub dags write`")
        console.print(f"{len(wanted)} DAG files match {rt.settings.departments_dir}")
        return
    dags_dir.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (dags_dir / name).write_text(wanted[name], encoding="utf-8")
    for name in extra:
        (dags_dir / name).unlink()
    console.print(f"wrote {len(stale)}, removed {len(extra)}, {len(wanted) - len(stale)} unchanged in {dags_dir}")


@dags_app.command("pools")
def dags_pools(
    out: Annotated[Path, typer.Argument(help="Where to write the pools (JSON for `airflow pools import FILE`).")],
    config: ConfigOpt = None,
) -> None:
    """Write the Airflow pools the DAGs use: one per department source (slots = its max_connections) and one for
    lake writes (1 slot on the embedded lake, which takes one writer at a time; 8 on DuckLake over PostgreSQL)."""
    from countyhub.core.departments import load_departments
    from countyhub.flow.pools import pools

    rt = runtime(config)
    found = pools(load_departments(rt.settings.departments_dir), rt.settings.lake_is_embedded)
    out.write_text(json.dumps(found, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"{len(found)} pools written to {out}; load them with `airflow pools import {out}`")


@dags_app.command("layout")
def dags_layout(config: ConfigOpt = None) -> None:
    """Parse the dbt project (`dbt parse`: nothing is built, the lake is not opened) so that county_build shows
    its dbt model tasks from the DAG processor's first parse, before any build has run.

    airflow-init in docker-compose.yml runs it; run it again after deploying changed dbt models. Until the first
    build the DAG is laid out from this parse (home/dbt/layout/manifest.json), after it from the build's manifest.
    """
    from countyhub.flow.build import DbtBuildError, parse_layout

    rt = runtime(config)
    try:
        manifest = parse_layout(rt.lake)
    except DbtBuildError as exc:
        fail(str(exc))
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    models = sum(1 for n in nodes.values() if n.get("resource_type") == "model")
    console.print(f"{models} dbt models laid out in {manifest}")
