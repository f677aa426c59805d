"""The whole run, stage after stage: ingest -> dbt build into audit -> gate -> publish -> catalog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from countyhub.departments import load_departments
from countyhub.settings import Settings
from lakehouse.load import LoadResult


@dataclass
class DatasetOutcome:
    """One published dataset's line in the run summary."""

    dataset: str
    rows: int | None
    gate_passed: bool
    reason: str
    published_version: int | None
    published_now: bool


@dataclass
class FlowReport:
    loads: list[LoadResult] = field(default_factory=list)
    datasets: list[DatasetOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(d.gate_passed for d in self.datasets)


def ingest_all(settings: Settings, progress: Callable[[str, int], None] | None = None) -> list[LoadResult]:
    from countyhub.ingest import ingest_department

    loads: list[LoadResult] = []
    for department in load_departments(settings.departments_dir):
        loads.extend(ingest_department(settings, department, progress=progress))
    return loads


def build_gate_publish(settings: Settings) -> list[DatasetOutcome]:
    """dbt builds every model into audit; each contract gates its dataset; passing ones publish.

    A dataset whose gate fails keeps its last good version in shared and never blocks the others.
    """
    from contracts.gate import run_gate
    from contracts.odcs import load_contracts
    from contracts.publish import current_publication, publish
    from countyhub.build import run_dbt
    from countyhub.register import record_gate, register_all
    from lakehouse import Lake

    lake = Lake(settings)
    build = run_dbt(settings)
    outcomes = []
    for contract in load_contracts(settings.contracts_dir):
        gate = run_gate(lake, contract)
        publication = publish(lake, contract, gate)
        record_gate(settings, contract, gate, publication)
        current = publication or current_publication(lake, contract.dataset)
        outcomes.append(DatasetOutcome(
            dataset=f"shared.{contract.dataset}",
            rows=current.rows if current else None,
            gate_passed=gate.success,
            reason=gate.reason,
            published_version=current.version if current else None,
            published_now=publication is not None,
        ))
    register_all(settings, build)
    return outcomes


def run_flow(settings: Settings, progress: Callable[[str, int], None] | None = None) -> FlowReport:
    """Ingest every department, build, gate, publish, and register everything in the catalog."""
    report = FlowReport(loads=ingest_all(settings, progress))
    report.datasets = build_gate_publish(settings)
    return report
