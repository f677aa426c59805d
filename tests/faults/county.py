"""A two-department county small enough to run the whole flow in seconds: the home every fault trial copies."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

DEPARTMENTS = {"aaa": ("persons", "person_id"), "bbb": ("places", "place_id")}
DATASETS = {"people_roll": ("aaa", "persons", "person_id"), "place_list": ("bbb", "places", "place_id")}


@dataclass(frozen=True)
class Layout:
    """A county's departments (code -> stream, key), datasets (name -> department, stream, key), and the source of
    each department that is not its SQLite file under the home (code -> the kind, config and stream lines)."""

    departments: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEPARTMENTS))
    datasets: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(DATASETS))
    sources: dict[str, str] = field(default_factory=dict)
    stream_options: dict[str, str] = field(default_factory=dict)  # code -> more lines of its stream


TWO_SQLITE = Layout()

_DEPARTMENT = """\
code: {code}
name: 测试{code}局
name_en: Test bureau {code}
owner:
  steward: 数据管理员
sources:
  - name: registry
{source}    streams:
      - name: {stream}
        primary_key: [{key}]
{stream_lines}"""
_SQLITE = """\
    kind: sql
    config:
      url: "sqlite:///{{home}}/src/{code}.db"
"""

_CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:countyhub:test:{dept}:{dataset}
name: {dataset}
version: 1.0.0
status: active
domain: {dept}
dataProduct: fault_trials
tenant: "511724"
description:
  purpose: 故障演练数据集。A dataset of the fault trials' county.
team:
  name: 测试信息中心
  members:
    - {{username: steward, name: 信息中心, role: steward}}
customProperties:
  - {{property: titleZh, value: 故障演练{dataset}}}
  - {{property: department, value: {dept}}}
  - {{property: steward, value: 信息中心}}
  - {{property: sharingType, value: unconditional}}
  - {{property: updateCycle, value: daily}}
  - {{property: sourceDepartments, value: [{dept}]}}
schema:
  - name: {dataset}
    physicalName: {dataset}
    physicalType: table
    quality:
      - {{name: not_empty, metric: rowCount, mustBeGreaterThan: 0, severity: error}}
    properties:
      - {{name: {key}, physicalType: BIGINT, logicalType: integer, required: true, unique: true, primaryKey: true,
         primaryKeyPosition: 1, classification: public}}
      - {{name: label, physicalType: VARCHAR, logicalType: string, required: true, classification: public}}
"""

_DBT_PROJECT = """\
name: countyhub
version: "1.0.0"
config-version: 2
profile: countyhub
model-paths: [models]
seed-paths: [seeds]
macro-paths: [macros]
models:
  countyhub:
    staging: {+schema: staging, +materialized: view}
    marts: {+schema: audit, +materialized: table}
seeds:
  countyhub:
    +schema: staging
flags:
  send_anonymous_usage_stats: false
"""


def write_county(root: Path, project_dir: Path, layout: Layout = TWO_SQLITE) -> dict[str, str]:
    """Department files, contracts and a dbt project under `root`; returns the COUNTYHUB_* settings naming them
    (the home itself is root/home). `project_dir` is the repository (its dbt macros are reused)."""
    departments, contracts, dbt = root / "departments", root / "contracts", root / "dbt_project"
    for folder in (departments, dbt / "models" / "staging", dbt / "models" / "marts"):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(project_dir / "dbt_project" / "macros", dbt / "macros", dirs_exist_ok=True)
    (dbt / "dbt_project.yml").write_text(_DBT_PROJECT, encoding="utf-8")
    for code, (stream, key) in layout.departments.items():
        cursor = "        cursor: updated_at\n" if code == "aaa" else ""  # one incremental stream, one snapshot
        source = layout.sources.get(code) or _SQLITE.format(code=code)
        (departments / f"{code}.yml").write_text(_DEPARTMENT.format(
            code=code, stream=stream, key=key, source=source, stream_lines=cursor + layout.stream_options.get(code, "")),
            encoding="utf-8")
    for dataset, (dept, stream, key) in layout.datasets.items():
        (contracts / dept).mkdir(parents=True, exist_ok=True)
        (contracts / dept / f"{dataset}.odcs.yaml").write_text(
            _CONTRACT.format(dept=dept, dataset=dataset, key=key), encoding="utf-8")
        (dbt / "models" / "staging" / f"stg_{dept}__{stream}.sql").write_text(
            f"select cast({key} as bigint) as {key}, cast(label as varchar) as label\n"
            f"from {{{{ source('raw_{dept}', '{stream}') }}}}\n", encoding="utf-8")
        (dbt / "models" / "marts" / f"{dataset}.sql").write_text(
            f"select {key}, label from {{{{ ref('stg_{dept}__{stream}') }}}}\n", encoding="utf-8")
    return {"COUNTYHUB_HOME": str(root / "home"), "COUNTYHUB_DEPARTMENTS_DIR": str(departments),
            "COUNTYHUB_CONTRACTS_DIR": str(contracts), "COUNTYHUB_DBT_PROJECT_DIR": str(dbt)}


def source_db(home: Path, department: str) -> Path:
    return home / "src" / f"{department}.db"


def add_source_rows(home: Path, count: int, departments: dict[str, tuple[str, str]] = DEPARTMENTS) -> None:
    """`count` new rows in every department's system (and one changed row in each, after the first rows); a server
    source mirrors its department's file (tests/faults/servers.py)."""
    for code, (stream, key) in departments.items():
        path = source_db(home, code)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {stream} ({key} INTEGER PRIMARY KEY, label TEXT, updated_at TEXT)")
            start = con.execute(f"SELECT coalesce(max({key}), 0) FROM {stream}").fetchone()[0]
            tick = f"2026-01-01 00:{start // 60 % 60:02d}:{start % 60:02d}"
            con.execute(f"UPDATE {stream} SET label = label || '改', updated_at = ? WHERE {key} = 1", [tick])
            con.executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)",
                            [(n, f"{code}-{n}", f"2026-01-01 00:{n // 60 % 60:02d}:{n % 60:02d}")
                             for n in range(start + 1, start + count + 1)])
