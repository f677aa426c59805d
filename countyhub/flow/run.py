"""The whole run, stage after stage: ingest -> dbt build into audit -> gate -> publish -> catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from countyhub.connectors import check_departments
from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import load_contracts
from countyhub.contracts.publish import current_publication, prepare_publications, publish, publish_order
from countyhub.core.departments import load_departments
from countyhub.flow.build import run_dbt
from countyhub.flow.ingest import ingest_department
from countyhub.flow.register import record_gate, register_all
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.load import LoadResult
from countyhub.sharing.model import AuditEntry


@dataclass
class DatasetOutcome:
    """One published dataset's line in the run summary."""

    dataset: str
    rows: int | None
    gate_passed: bool
    reason: str
    published_version: int | None
    published_now: bool
    status: str = ""  # passed, warn (published with a flag), quarantined (published without some rows), failed
    warnings: list[str] = field(default_factory=list)  # messages of failed warn rules
    quarantined: int = 0  # rows held back in lake.quarantine.shared__<dataset> by this publication


@dataclass
class FlowReport:
    loads: list[LoadResult] = field(default_factory=list)
    datasets: list[DatasetOutcome] = field(default_factory=list)
    # Rows in each raw table after its load ("lake.raw_gaj.persons" -> n): an incremental load reads only a
    # few rows, so the load's own counts no longer say how big the table is.
    raw_rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(d.gate_passed for d in self.datasets)


def ingest_all(runtime: Runtime, progress: Callable[[str, int], None] | None = None) -> list[LoadResult]:
    """Load every department's streams, one department after another."""
    loads: list[LoadResult] = []
    # Every file is checked before the first load, so a bad one does not stop the run halfway.
    for department in check_departments(load_departments(runtime.settings.departments_dir)):
        loads.extend(ingest_department(runtime, department, progress=progress))
    return loads


def raw_row_counts(runtime: Runtime, loads: list[LoadResult]) -> dict[str, int]:
    """Rows in each loaded raw table now (one count per table, read-only)."""
    if not loads:
        return {}
    with runtime.lake.reader() as con:
        return {load.table: con.execute(f"SELECT count(*) FROM {load.table}").fetchone()[0] for load in loads}


def build_models(runtime: Runtime) -> list[str]:
    """dbt builds every model into staging/intermediate/audit; returns the built node names."""
    with runtime.lake.lock():  # dbt opens its own connection: serialize it with every other writer
        return [n.name for n in run_dbt(runtime.lake).nodes]


def gate_and_publish_all(runtime: Runtime) -> list[DatasetOutcome]:
    """Each contract gates its dataset in audit; passing ones publish to shared.

    A dataset whose gate fails keeps its last good version in shared and never blocks the others.
    """
    lake, outcomes = runtime.lake, []
    prepare_publications(lake)
    # Parents first: a referential rule (every case's grid cell exists) reads the freshly published parent.
    for contract in publish_order(load_contracts(runtime.settings.contracts_dir)):
        gate = run_gate(lake, contract)
        publication = publish(lake, contract, gate)
        record_gate(runtime, contract, gate, publication)
        if publication is not None:  # a new version of shared data is something the audit log must show
            runtime.sharing.audit.append(AuditEntry(
                action="publish", actor="countyhub", department=contract.department,
                dataset=f"shared.{contract.dataset}", rows=publication.rows,
                detail={"version": publication.version, "gate_run": gate.run_id, "status": gate.status}))
        current = publication or current_publication(lake, contract.dataset)
        outcomes.append(DatasetOutcome(
            dataset=f"shared.{contract.dataset}",
            rows=current.rows if current else None,
            gate_passed=gate.success,
            reason=gate.reason,
            published_version=current.version if current else None,
            published_now=publication is not None,
            status=gate.status,
            warnings=[w.message for w in gate.warnings],
            quarantined=publication.quarantined or 0 if publication else 0,
        ))
    runtime.sharing.audit.flush()
    return outcomes


def register_catalog(runtime: Runtime) -> int:
    """Register every raw stream, dbt model and published dataset in the catalog; returns how many."""
    return register_all(runtime)


def build_gate_publish(runtime: Runtime) -> list[DatasetOutcome]:
    """Build, gate, publish and register: the county build DAG's three tasks in one call."""
    build_models(runtime)
    outcomes = gate_and_publish_all(runtime)
    register_catalog(runtime)
    return outcomes


def run_flow(runtime: Runtime, progress: Callable[[str, int], None] | None = None) -> FlowReport:
    """Ingest every department, build, gate, publish, and register everything in the catalog."""
    report = FlowReport(loads=ingest_all(runtime, progress))
    report.raw_rows = raw_row_counts(runtime, report.loads)
    report.datasets = build_gate_publish(runtime)
    return report
