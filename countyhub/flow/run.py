"""The whole run, stage after stage: ingest -> dbt build into audit -> gate -> publish -> catalog."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from countyhub.connectors import check_departments
from countyhub.contracts.gate import run_gate
from countyhub.contracts.odcs import Contract, load_contracts
from countyhub.contracts.publish import (
    current_publication,
    prepare_publications,
    publish,
    publish_order,
    unchanged_publications,
)
from countyhub.core.departments import load_departments
from countyhub.flow import changes, publish_audit
from countyhub.flow.build import BuildResult, DbtBuildError, manifest_file, run_dbt
from countyhub.flow.dbt_prep import prepare_for
from countyhub.flow.ingest import ingest_department
from countyhub.flow.register import record_gate, register_all
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse.file_checksums import record_checksums
from countyhub.lakehouse.lake import LAKE
from countyhub.lakehouse.load import LoadResult
from countyhub.lakehouse.meta_gates import Publication
from countyhub.lakehouse.writer_session import writer_session

_log = logging.getLogger(__name__)


@dataclass
class DatasetOutcome:
    """One published dataset's line in the run summary."""

    dataset: str
    rows: int | None
    gate_passed: bool
    reason: str
    published_version: int | None
    published_now: bool
    # passed, warn (published with a flag), quarantined (published without some rows), failed, skipped (its
    # department failed to load), unchanged (the served version already has these rows: not gated again)
    status: str = ""
    warnings: list[str] = field(default_factory=list)  # messages of failed warn rules
    quarantined: int = 0  # rows held back in lake.quarantine.shared__<dataset> by this publication
    rebuilt: bool = True  # dbt rebuilt its model in this run (False: none of its inputs changed)
    rows_added: int | None = None  # rows the new version serves that the previous did not (None: not compared)
    rows_removed: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # "gate", "publish": where its time went


@dataclass(frozen=True)
class DepartmentFailure:
    """A department whose load did not finish: the others went on without it."""

    department: str
    cause: str  # one line: what failed and why (a connector's message names the file and source)


@dataclass
class FlowReport:
    loads: list[LoadResult] = field(default_factory=list)
    datasets: list[DatasetOutcome] = field(default_factory=list)
    failures: list[DepartmentFailure] = field(default_factory=list)
    # Rows in each raw table after its load ("lake.raw_gaj.persons" -> n): an incremental load reads only a
    # few rows, so the load's own counts no longer say how big the table is.
    raw_rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and all(d.gate_passed for d in self.datasets)


def _one_line(exc: BaseException) -> str:
    # A note says where it happened (ingest adds the source and stream a driver's own message may not name).
    text = " ".join(" ".join([*getattr(exc, "__notes__", []), str(exc)]).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def ingest_all(runtime: Runtime, progress: Callable[[str, int], None] | None = None,
               failures: list[DepartmentFailure] | None = None) -> list[LoadResult]:
    """Load every department's streams, one department after another.

    With `failures` given, a department whose load raises is recorded there and the others still load (its raw
    tables keep their last good load: a load commits whole or not at all); without it, the error propagates.
    """
    loads: list[LoadResult] = []
    # Every file is checked before the first load, so a bad one does not stop the run halfway.
    departments = check_departments(load_departments(runtime.settings.departments_dir))
    # One writer connection for every load (attaching the lake costs more than a no-change load itself).
    with writer_session(runtime.lake) as session:
        for department in departments:
            try:
                loads.extend(ingest_department(runtime, department, progress=progress, session=session))
            except Exception as exc:  # one department's failure is that department's alone
                session.discard()  # the next department starts on a new connection, whatever this one left
                if failures is None:
                    raise
                _log.debug("department %s failed to load", department.code, exc_info=True)
                failures.append(DepartmentFailure(department.code, _one_line(exc)))
    return loads


def raw_row_counts(runtime: Runtime, loads: list[LoadResult]) -> dict[str, int]:
    """Rows in each loaded raw table now (one count per table, read-only)."""
    if not loads:
        return {}
    with runtime.lake.reader() as con:
        return {load.table: con.execute(f"SELECT count(*) FROM {load.table}").fetchone()[0] for load in loads}


def build_models(runtime: Runtime, skip_departments: Collection[str] = ()) -> list[str]:
    """dbt builds what changed into staging/intermediate/audit — the models downstream of a raw stream a load
    changed or of a project file that changed since the last complete build (everything when there is none) —
    except those built from a department in `skip_departments`; returns the built node names ([] when nothing
    changed: dbt does not even start)."""
    result = build_changed(runtime, skip_departments)
    return [n.name for n in result.nodes] if result else []


def build_changed(runtime: Runtime, skip_departments: Collection[str] = ()) -> BuildResult | None:
    """build_models, returning dbt's result for every node it ran (None when nothing changed); a failed build
    raises DbtBuildError carrying that result."""
    lake, settings = runtime.lake, runtime.settings
    exclude = " ".join(f"source:raw_{code}+" for code in sorted(skip_departments)) or None
    with lake.lock():  # dbt opens its own connection: serialize it with every other writer
        changes.discard_pending(settings)
        project = prepare_for(lake)
        started, digest = datetime.now(UTC), changes.project_digest(project)
        plan = changes.plan_build(settings, lake, digest)
        _log.info("dbt build: %s", plan.why)
        if plan.nothing:
            return None
        try:
            result = run_dbt(lake, select=plan.select, project=project, exclude=exclude, state=plan.state,
                             unit_tests=plan.unit_tests)
        except DbtBuildError:
            changes.forget_builds(settings)  # what the failed build left behind is unknown: rebuild it all next time
            raise
        if not skip_departments:  # an excluded model may have changed too: compare with the older build next time
            changes.remember_pending(settings, project, started, digest)
        return result


def gate_and_publish_all(runtime: Runtime, built: Collection[str] = (),
                         held_back: Mapping[str, str] | None = None) -> list[DatasetOutcome]:
    """Each contract gates its dataset in audit; passing ones publish to shared.

    A dataset whose audit rows hash as they did when its served version was published, under the same contract,
    is not gated again and keeps its version ("unchanged"), unless a dataset its rules read was published in this
    run. A dataset whose gate fails keeps its last good version in shared and never blocks the others.
    `held_back` (dataset -> why) keeps datasets built from a department that failed to load out of it. `built`:
    the dbt nodes this run rebuilt, for the summary.
    """
    lake, outcomes, held_back, republished = runtime.lake, [], held_back or {}, set()
    contracts = publish_order(load_contracts(runtime.settings.contracts_dir))
    prepare(runtime, contracts)
    unchanged = unchanged_publications(lake, [c for c in contracts if c.dataset not in held_back])
    # Parents first: a referential rule (every case's grid cell exists) reads the freshly published parent.
    for contract in contracts:
        # A rule that reads a parent published in this run may judge the same rows differently: gate them again.
        same = None if contract.references & republished else unchanged.get(contract.dataset)
        outcomes.append(_outcome(runtime, contract, contract.dataset in built, held_back.get(contract.dataset), same))
        if outcomes[-1].published_now:
            republished.add(contract.dataset)
    runtime.sharing.audit.flush()
    finish_build(runtime)
    return outcomes


def gate_and_publish_dataset(runtime: Runtime, dataset: str, built: Collection[str] = (),
                             republished: Collection[str] = (), planned: PlannedGate | None = None) -> DatasetOutcome:
    """One contract's gate and publish: the build DAG's task per dataset. `republished`: datasets published in
    this run (its parents' tasks ran first); if its rules read one of them, its rows are gated again. `planned`:
    what the build's `plan_gates` found for it, which spares this gate `prepare` and the lake's look at what is
    served; ignored if the contract's text changed since (and not to be given on a retry, see PlannedGate)."""
    lake, contracts = runtime.lake, load_contracts(runtime.settings.contracts_dir)
    contract = next((c for c in contracts if c.dataset == dataset), None)
    if contract is None:
        raise KeyError(f"no contract for dataset {dataset!r} in {runtime.settings.contracts_dir}")
    if planned is not None and planned.contract_digest == contract_digest(contract):
        same = planned.served
    else:
        prepare(runtime, contracts)
        same = unchanged_publications(lake, [contract]).get(dataset)
    if contract.references & set(republished):
        same = None
    outcome = _outcome(runtime, contract, dataset in built, None, same)
    runtime.sharing.audit.flush()
    return outcome


def prepare(runtime: Runtime, contracts: Collection[Contract]) -> None:
    """Before any gate: the publication log exists, and every version in it has its audit entry (one a crash
    lost between the lake's commit and the audit log's is appended now, marked recovered)."""
    prepare_publications(runtime.lake)
    recovered = publish_audit.reconcile(runtime.lake, runtime.sharing.audit,
                                        {c.dataset: c.department for c in contracts})
    for p in recovered:
        _log.warning("audit log: publish of shared.%s v%d was not recorded; recorded now", p.dataset, p.version)


@dataclass(frozen=True)
class PlannedGate:
    """What a build found for one dataset before its gate task runs: the digest of the contract's text then, and
    the version served if publishing again would serve the same rows (None: gate them).

    Only a first try may use it. A gate that crashed between the lake's commit and the audit log's append is
    retried, and its retry must run `prepare` (which appends the lost entry) and look at what is served now."""

    contract_digest: str
    served: Publication | None

    def to_json(self) -> dict[str, Any]:
        """As an Airflow XCom value (plain JSON types)."""
        served = None if self.served is None else {**asdict(self.served),
                                                   "published_at": self.served.published_at.isoformat()}
        return {"contract_digest": self.contract_digest, "served": served}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedGate:
        served = data["served"]
        if served is not None:
            served = Publication(**{**served, "published_at": datetime.fromisoformat(served["published_at"])})
        return cls(data["contract_digest"], served)


def planned_gate(build: Mapping[str, Any], dataset: str, try_number: int) -> PlannedGate | None:
    """A gate task's line of its build's plan (build_models' XCom, `planned`), on its first try only: a retry
    looks at the lake again, since its first try may have published, or lost an audit entry. None also for the
    XCom of a build from before plans."""
    found = build.get("planned", {}).get(dataset) if try_number == 1 else None
    return PlannedGate.from_json(found) if found else None


def contract_digest(contract: Contract) -> str:
    """The contract file's text as it is now, as a sha256 (what a plan was made under)."""
    return hashlib.sha256(contract.path.read_bytes()).hexdigest()


def plan_gates(runtime: Runtime, held_back: Collection[str] = ()) -> dict[str, PlannedGate]:
    """After the build, once for all its gates: `prepare`, and for each dataset not `held_back` whether its rows
    and contract are those of the version served. A gate run as a task of its own is spared both (its process
    would otherwise open the lake three more times for them)."""
    contracts = [c for c in load_contracts(runtime.settings.contracts_dir) if c.dataset not in held_back]
    prepare(runtime, contracts)
    unchanged = unchanged_publications(runtime.lake, contracts)
    return {c.dataset: PlannedGate(contract_digest(c), unchanged.get(c.dataset)) for c in contracts}


def nothing_to_publish(runtime: Runtime, held_back: Collection[str] = ()) -> bool:
    """After a build that rebuilt nothing: True when every dataset but those `held_back` would keep the version
    served, so no gate has anything to judge (the build DAG then skips them). Audit entries a crash lost are
    appended first, as before any gate."""
    return nothing_to_gate(plan_gates(runtime, held_back))


def nothing_to_gate(planned: Mapping[str, PlannedGate]) -> bool:
    """Every planned dataset keeps the version served."""
    return all(p.served is not None for p in planned.values())


def up_to_date(runtime: Runtime) -> str | None:
    """Why a build now would do nothing the last complete build did not: no load has committed since that build
    started (it read every one), the dbt project is the one it built, and every dataset's rows and contract are
    those of the version served. None when there is something to build, gate or register."""
    last = changes.read_build(runtime.settings)
    if last is None or changes.changed_streams(runtime.lake, last.started_at, changed=False):
        return None
    plan = changes.plan_build(runtime.settings, runtime.lake, changes.project_digest(prepare_for(runtime.lake)))
    if not plan.nothing or not nothing_to_publish(runtime):
        return None
    return (f"no load since the last complete build started ({last.started_at:%Y-%m-%d %H:%M:%S} UTC), and "
            "neither the dbt project nor a contract changed: every shared dataset keeps the version served")


def finish_build(runtime: Runtime) -> None:
    """Every dataset of the pending build went through its gate: later builds compare with this one."""
    changes.promote_pending(runtime.settings)


def _outcome(runtime: Runtime, contract: Contract, rebuilt: bool, held_back: str | None,
             same: Publication | None) -> DatasetOutcome:
    """Held back (its department failed to load), unchanged (`same`: the served version has these rows), or
    gated and published now."""
    if held_back is not None:
        kept = current_publication(runtime.lake, contract.dataset)
        return DatasetOutcome(
            dataset=f"shared.{contract.dataset}", rows=kept.rows if kept else None, gate_passed=False,
            reason=held_back, published_version=kept.version if kept else None,
            published_now=False, status="skipped", rebuilt=False)
    if same is not None:
        return DatasetOutcome(
            dataset=f"shared.{contract.dataset}", rows=same.rows, gate_passed=True,
            reason="its rows and contract are those of the version served", published_version=same.version,
            published_now=False, status="unchanged", rebuilt=rebuilt, rows_added=0, rows_removed=0)
    return _gate_and_publish(runtime, contract, rebuilt)


def _gate_and_publish(runtime: Runtime, contract: Contract, rebuilt: bool) -> DatasetOutcome:
    lake = runtime.lake
    started = time.perf_counter()
    gate = run_gate(lake, contract)
    gated = time.perf_counter()
    # A new version of shared data is something the audit log must show: its entry is written with the version.
    publication = publish(lake, contract, gate, publish_audit.recorder(
        runtime.sharing.audit, "countyhub", contract.department, gate_run=gate.run_id, status=gate.status))
    published = time.perf_counter()
    record_gate(runtime, contract, gate, publication)
    current = publication or current_publication(lake, contract.dataset)
    return DatasetOutcome(
        dataset=f"shared.{contract.dataset}",
        rows=current.rows if current else None,
        gate_passed=gate.success,
        reason=gate.reason,
        published_version=current.version if current else None,
        published_now=publication is not None,
        status=gate.status,
        warnings=[w.message for w in gate.warnings],
        quarantined=publication.quarantined or 0 if publication else 0,
        rebuilt=rebuilt,
        rows_added=publication.rows_added if publication else None,
        rows_removed=publication.rows_removed if publication else None,
        seconds={"gate": round(gated - started, 3), "publish": round(published - gated, 3)},
    )


def register_catalog(runtime: Runtime) -> int:
    """Register every raw stream, dbt model and published dataset in the catalog; returns how many. The lake files
    written since the last registration get their checksums recorded (`countyhub lake verify` checks them)."""
    registered = register_all(runtime)
    record_checksums(runtime.lake)
    return registered


def unloaded_departments(runtime: Runtime) -> set[str]:
    """Departments with a stream the lake has no raw table for yet: the models built on them cannot build. (In
    Airflow the build starts on the first department's fresh data; the others may not have loaded even once.)"""
    with runtime.lake.reader() as con:
        have = {f"{schema}.{table}" for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE]).fetchall()}
    return {d.code for d in load_departments(runtime.settings.departments_dir)
            if any(f"{d.raw_schema}.{stream.name}" not in have for source in d.sources for stream in source.streams)}


def held_back_by(runtime: Runtime, failed: Collection[str]) -> dict[str, str]:
    """{dataset: why} for the datasets built from a department in `failed`: they keep their last good version."""
    manifest = manifest_file(runtime.settings)
    if not failed or not manifest.is_file():
        return {}
    names = ", ".join(sorted(failed))
    because = (f"not rebuilt: department{'s' if len(failed) > 1 else ''} {names} failed to load; "
               "the last good version stays")
    return {model: because for model in changes.downstream_models(manifest, set(failed))}


def build_gate_publish(runtime: Runtime, failed: Collection[str] = ()) -> list[DatasetOutcome]:
    """Build, gate, publish and register: the county build DAG's three tasks in one call. Datasets built from a
    `failed` department are neither rebuilt nor gated: they keep their last good version."""
    built = build_models(runtime, failed)
    outcomes = gate_and_publish_all(runtime, built, held_back_by(runtime, failed))
    register_catalog(runtime)
    return outcomes


def run_flow(runtime: Runtime, progress: Callable[[str, int], None] | None = None) -> FlowReport:
    """Ingest every department, build, gate, publish, and register everything in the catalog. A department that
    fails to load is reported and the rest of the county goes on (see `ingest_all` and `build_gate_publish`)."""
    report = FlowReport()
    report.loads = ingest_all(runtime, progress, report.failures)
    report.raw_rows = raw_row_counts(runtime, report.loads)
    report.datasets = build_gate_publish(runtime, {f.department for f in report.failures})
    return report
