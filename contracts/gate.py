"""The contract gate: a Great Expectations suite compiled from an ODCS contract, run inside DuckDB on the lake."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from sqlalchemy import event
from sqlalchemy.dialects import plugins as sqlalchemy_plugins
from sqlalchemy.engine import CreateEnginePlugin

from countyhub.contracts import ge_patch
from countyhub.contracts.compile import build_suite, error_message, gate_rules
from countyhub.contracts.data_docs import write_data_docs
from countyhub.contracts.odcs import Contract, Rule
from countyhub.contracts.rules.cn_ids import register as register_udfs
from countyhub.contracts.samples import failing_samples
from countyhub.core import faultpoints
from countyhub.lakehouse import meta_gates
from countyhub.lakehouse.lake import LAKE, Lake

ge_patch.apply()


def _quiet_great_expectations() -> None:
    """GE logs at INFO on every context (and sets INFO explicitly on some of its loggers): keep warnings only."""
    for name in ["great_expectations", *logging.root.manager.loggerDict]:
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


_quiet_great_expectations()

PLUGIN = "countyhub_lake"
# DuckDB's memory cap on the gate's connections. Without one DuckDB may take 80% of RAM, and the gate shares
# the machine with loads, dbt and the catalog; with one, big aggregates (uniqueness) spill to TEMP_FOLDER.
# 1GB (settings.gate_memory_limit's default) kept the whole gate process under 2 GB at 10M rows
# (bench/bench_gate.py); a check that still cannot fit fails the gate closed.
# The setting's name as an operator sets it, for messages.
MEMORY_SETTING = "gate_memory_limit (COUNTYHUB_GATE_MEMORY_LIMIT)"


class LakeAttachPlugin(CreateEnginePlugin):
    """SQLAlchemy engine plugin: every new DuckDB connection GE opens gets the lake attached first.

    GE builds its own engines from a connection string and kwargs, so a plugin named in those kwargs
    is the one hook that reaches every engine (datasource and execution engine) it creates.
    """

    def __init__(self, url: Any, kwargs: dict[str, Any]) -> None:
        super().__init__(url, kwargs)
        self.statements = kwargs.pop("countyhub_on_connect")
        self.lake = kwargs.pop("countyhub_lake")

    def update_url(self, url: Any) -> Any:
        return url

    def engine_created(self, engine: Any) -> None:
        statements, lake = list(self.statements), self.lake

        @event.listens_for(engine, "connect")
        def _attach(dbapi_connection: Any, _record: Any) -> None:
            register_udfs(dbapi_connection)  # the domain checks' vectorized functions (contracts.rules.cn_ids)
            # A lake on an object store needs its secret before the attach; the keys never enter GE's config.
            lake.create_s3_secret(dbapi_connection)
            cursor = dbapi_connection.cursor()
            try:
                for sql in statements:
                    cursor.execute(sql)
            finally:
                cursor.close()


sqlalchemy_plugins.register(PLUGIN, __name__, "LakeAttachPlugin")


@dataclass(frozen=True)
class RuleResult:
    rule: str
    column: str | None
    expectation: str
    observed: Any
    threshold: str
    success: bool
    severity: str
    message: str = ""
    kind: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)  # masked offending rows (failed rules only)


@dataclass(frozen=True)
class GateResult:
    dataset: str
    table: str
    run_id: str
    success: bool
    results: list[RuleResult]
    reason: str
    started_at: datetime
    finished_at: datetime
    row_count: int | None
    contract_version: str = ""
    failures: list[RuleResult] = field(default_factory=list)  # severity error: block publication
    warnings: list[RuleResult] = field(default_factory=list)  # severity warn: publish, flagged
    quarantined: dict[str, int] = field(default_factory=dict)  # quarantine rule -> offending rows
    data_docs: str | None = None  # GE Data Docs page of this run

    @property
    def status(self) -> str:
        """passed, warn (published with a flag), quarantined (published without some rows) or failed."""
        if not self.success:
            return "failed"
        return "warn" if self.warnings else "quarantined" if any(self.quarantined.values()) else "passed"


def _observed(result: dict[str, Any], kind: str, types: dict[str, str], column: str | None) -> Any:
    if kind == "type":
        return types.get(column or "", "missing") if result.get("observed_value") else None
    if "unexpected_count" not in result or kind in ("row_count", "sql", "volume"):
        return result.get("observed_value")
    return result.get("unexpected_count")


def _column_types(con: Any, schema: str, table: str) -> dict[str, str]:
    """Declared column types, to name the actual type when a type rule fails (GE's result carries none)."""
    rows = con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
                       "AND table_schema = ? AND table_name = ?", [LAKE, schema, table]).fetchall()
    return {n: t.replace(" ", "") for n, t in rows}


def memory_config(lake: Lake) -> dict[str, str]:
    """memory_limit and temp_directory for every DuckDB connection the gate reads with (GE's and the samples')."""
    folder = lake.settings.home / "tmp" / "gate"
    folder.mkdir(parents=True, exist_ok=True)
    return {"memory_limit": lake.settings.gate_memory_limit, "temp_directory": str(folder)}


def previous_rows(con: Any, dataset: str) -> int | None:
    """Rows of the version shared serves now (for volume rules), or None before the first publication."""
    return meta_gates.latest_rows(con, dataset)


def _message(rule: Rule, observed: Any, threshold: str, error: str | None) -> str:
    where, kind = rule.column or "table", rule.kind
    if error and "out of memory" in error.lower():
        return (f"{where}: check could not run ({kind}): DuckDB ran out of memory within the gate's limit and "
                f"could not spill enough to disk; raise {MEMORY_SETTING} or free the temp folder's disk "
                f"({error.splitlines()[0][:160]})")
    if error:
        return f"{where}: check could not run ({kind}): {error.splitlines()[0][:200]}"
    words = {"not_null": f"{observed} null values", "unique": f"{observed} rows with duplicate values",
             "compound_unique": f"{observed} rows with duplicate keys",
             "in_set": f"{observed} values outside the allowed set", "range": f"{observed} values out of range",
             "regex": f"{observed} values not matching the pattern", "type": f"type is {observed}",
             "row_count": f"{observed} rows", "sql": f"query returned {observed}", "volume": f"{observed} rows",
             "foreign_key": f"{observed} values missing from the referenced dataset"}
    if kind in ("resident_id", "credit_code", "division_code", "mobile", "not_future"):
        words[kind] = f"{observed} invalid values ({kind.replace('_', ' ')})"
    if rule.severity == "quarantine":
        return f"{where}: {observed} rows quarantined ({rule.name}; expected {threshold})"
    return f"{where}: {words.get(kind, f'observed {observed}')} ({kind}; expected {threshold})"


def _table_name(contract: Contract, table: str | None) -> tuple[str, str]:
    parts = (table or f"audit.{contract.dataset}").split(".")
    if parts[0] == LAKE and len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"table must be <schema>.<table> in the lake, got {table!r}")
    return parts[0], parts[1]


def _samples(con: Any, table: str, contract: Contract, rule: Rule) -> list[dict[str, Any]]:
    """Failing samples are evidence, not the verdict: under the memory cap they may be skipped, never crash the run."""
    try:
        return failing_samples(con, table, contract, rule)
    except duckdb.OutOfMemoryException:
        return []


def _out_of_memory(contract: Contract, table: str, run_id: str, started: datetime, error: str,
                   limit: str) -> GateResult:
    """A failed GateResult for a run that could not start under the memory cap (one stored result says why)."""
    message = (f"gate could not run: DuckDB ran out of memory within the gate's limit; raise {MEMORY_SETTING} "
               f"(now {limit}) ({error.splitlines()[0][:160]})")
    result = RuleResult(rule="_gate", column=None, expectation="", observed=None, threshold="gate runs",
                        success=False, severity="error", message=message, kind="gate")
    return GateResult(dataset=contract.dataset, table=table, run_id=run_id, success=False, results=[result],
                      reason=message, started_at=started, finished_at=datetime.now(UTC), row_count=None,
                      contract_version=contract.version, failures=[result])


def run_gate(lake: Lake, contract: Contract, table: str | None = None, data_docs: bool = True) -> GateResult:
    """Validate lake.<table> (default lake.audit.<dataset>) against the contract, inside DuckDB.

    Only reads: the lake is attached READ_ONLY on GE's own connections, and no writer lock is taken.
    A rule that cannot run counts as failed (the gate fails closed). Failed rules carry a few
    offending rows, masked; the run's GE Data Docs page goes under <home>/data_docs/<dataset>/.
    """
    schema, name = _table_name(contract, table)
    started, run_id = datetime.now(UTC), uuid.uuid4().hex
    with lake.reader() as con:
        before = previous_rows(con, contract.dataset)
    attach, limits = lake.attach_sql(read_only=True), memory_config(lake)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = None
    try:
        datasource = context.data_sources.add_sql(
            name=f"lake_{run_id}", connection_string="duckdb:///:memory:",
            kwargs={"plugins": [PLUGIN], "countyhub_on_connect": [attach, f"USE {LAKE}.{schema}"], "countyhub_lake": lake,
                    "connect_args": {"config": {**lake.duckdb_config(), **limits}}},
        )
        # The connection's default schema is set above; GE drops schema_name in some metric queries.
        batch = datasource.add_table_asset(name=name, table_name=name).add_batch_definition_whole_table("all")
        # No run-wide result_format: each expectation's own applies (BASIC: counts and a small sample).
        validation = batch.get_batch().validate(build_suite(contract, before))
    except Exception as exc:
        if "out of memory" not in str(exc).lower():
            raise
        # Not even GE's connection fitted under the cap: no rule ran, so the gate fails closed.
        return _out_of_memory(contract, f"{LAKE}.{schema}.{name}", run_id, started, str(exc),
                              lake.settings.gate_memory_limit)
    finally:
        if datasource is not None:
            datasource.get_engine().dispose()
            datasource.get_execution_engine().engine.dispose()
    faultpoints.reached("gate.checked")  # the checks ran; nothing is recorded or published yet
    rules = {r.name: r for r in gate_rules(contract)}
    results, row_count, full = [], None, f"{LAKE}.{schema}.{name}"
    with lake.reader() as con:
        register_udfs(con)
        for key, value in limits.items():  # sample queries (a duplicate GROUP BY) get the same cap
            con.execute(f"SET {key} = ?", [value])
        types = _column_types(con, schema, name)
        for res in validation.results:
            meta = res.expectation_config.meta or {}
            rule, threshold = rules[meta["rule"]], meta.get("threshold", "")
            observed = _observed(res.result or {}, rule.kind, types, rule.column)
            if rule.kind in ("row_count", "volume") and isinstance(observed, int):
                row_count = observed
            if rule.name == "_row_count" and res.success:
                continue  # bookkeeping only: reported as GateResult.row_count
            error = error_message(res.exception_info)
            samples = [] if res.success or error else _samples(con, full, contract, rule)
            results.append(RuleResult(
                rule=rule.name, column=rule.column, expectation=res.expectation_config.type, observed=observed,
                threshold=threshold, success=bool(res.success), severity=rule.severity,
                message="" if res.success else _message(rule, observed, threshold, error), kind=rule.kind,
                samples=samples,
            ))
    # A quarantine rule that could not run must block: its offending rows are unknown.
    failures = [r for r in results if not r.success and (r.severity == "error" or (
        r.severity == "quarantine" and not isinstance(r.observed, int)))]
    warnings = [r for r in results if not r.success and r.severity == "warn"]
    quarantined = {r.rule: r.observed for r in results if r.severity == "quarantine" and isinstance(r.observed, int)}
    reason = "; ".join(r.message for r in failures) or f"all {len(results) - len(warnings)} error rules passed"
    if warnings:
        reason += "; warnings: " + "; ".join(r.message for r in warnings)
    if any(quarantined.values()):
        reason += "; quarantine: " + "; ".join(r.message for r in results if r.rule in quarantined and not r.success)
    docs = None
    if data_docs:
        path = lake.settings.home / "data_docs" / contract.dataset / f"{run_id}.html"
        docs = str(write_data_docs(validation, path))
    return GateResult(
        dataset=contract.dataset, table=full, run_id=run_id, success=not failures,
        results=results, reason=reason, started_at=started, finished_at=datetime.now(UTC),
        row_count=row_count, contract_version=contract.version, failures=failures, warnings=warnings,
        quarantined=quarantined, data_docs=docs,
    )
