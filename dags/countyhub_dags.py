"""Airflow wiring only: one ingest DAG per departments/<code>.yml, and the county build DAG.

Every task calls the same functions as the `countyhub` CLI; no logic lives here. Parsing reads
only the YAML department files, so the scheduler's parse loop stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import DAG, Asset, AssetAny, task

from countyhub.core.departments import Department, load_departments
from countyhub.core.settings import load_settings

if TYPE_CHECKING:
    from countyhub.flow.runtime import Runtime

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
DEFAULTS = {"retries": 2, "retry_delay": pendulum.duration(minutes=5)}


def task_runtime() -> Runtime:
    """Each task builds its runtime once, from the settings and the worker's environment (the DAG file is an edge)."""
    from countyhub.flow.runtime import Runtime

    return Runtime(load_settings(), os.environ)


def raw_asset(department: str, stream: str) -> Asset:
    return Asset(f"countyhub://lake/raw_{department}/{stream}", group="raw")


def ingest_dag(department: Department) -> DAG:
    """ingest_<code>: one task per stream, each emitting the raw asset it refreshed."""
    with DAG(
        dag_id=f"ingest_{department.code}",
        description=f"{department.name} ({department.name_en}): load sources into raw_{department.code}",
        schedule=department.schedule,
        start_date=START,
        catchup=False,
        default_args={**DEFAULTS, "owner": department.code},
        tags=["countyhub", "ingest", department.code],
    ) as dag:
        for source in department.sources:
            for stream in source.streams:
                @task(task_id=f"load_{stream.name}", outlets=[raw_asset(department.code, stream.name)])
                def load(code: str = department.code, stream_name: str = stream.name) -> dict:
                    from countyhub.core.departments import load_department
                    from countyhub.flow.ingest import ingest_department

                    rt = task_runtime()
                    dept = load_department(rt.settings.departments_dir / f"{code}.yml")
                    [result] = ingest_department(rt, dept, stream_name)
                    return {"load_id": result.load_id, "rows": result.rows_loaded, "table": result.table,
                            "phase_seconds": result.phases}

                load()
    return dag


def build_dag(departments: list[Department]) -> DAG:
    """county_build: dbt into audit -> gate and publish every contract -> catalog; runs when any raw asset changes."""
    assets = [raw_asset(d.code, s.name) for d in departments for src in d.sources for s in src.streams]
    with DAG(
        dag_id="county_build",
        description="Build shared county datasets with dbt, gate them on their contracts, publish, catalog",
        schedule=AssetAny(*assets) if assets else None,
        start_date=START,
        catchup=False,
        default_args={**DEFAULTS, "owner": "dsj"},
        tags=["countyhub", "build"],
    ) as dag:
        @task
        def build_models() -> list[str]:
            from countyhub.flow.run import build_models as build

            return build(task_runtime())

        @task
        def gate_and_publish(built: list[str]) -> list[dict]:
            from countyhub.flow.run import gate_and_publish_all

            return [o.__dict__ for o in gate_and_publish_all(task_runtime(), built)]

        @task
        def register_catalog(outcomes: list[dict]) -> int:
            from countyhub.flow.run import register_catalog as register

            return register(task_runtime())

        register_catalog(gate_and_publish(build_models()))
    return dag


_departments = load_departments(load_settings().departments_dir)
for _department in (d for d in _departments if d.sources):
    globals()[f"ingest_{_department.code}"] = ingest_dag(_department)
county_build = build_dag(_departments)
