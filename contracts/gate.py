"""The contract gate: a Great Expectations suite compiled from an ODCS contract, run inside DuckDB on the lake."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import sqlalchemy as sa
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.registry import get_expectation_impl
from sqlalchemy import event
from sqlalchemy.dialects import plugins as sqlalchemy_plugins
from sqlalchemy.engine import CreateEnginePlugin

from contracts import ge_patch
from contracts.odcs import Contract, Rule
from lakehouse.lake import LAKE, Lake

ge_patch.apply()


def _quiet_great_expectations() -> None:
    """GE logs at INFO on every context (and sets INFO explicitly on some of its loggers): keep warnings only."""
    for name in ["great_expectations", *logging.root.manager.loggerDict]:
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


_quiet_great_expectations()

PLUGIN = "countyhub_lake"


class LakeAttachPlugin(CreateEnginePlugin):
    """SQLAlchemy engine plugin: every new DuckDB connection GE opens gets the lake attached first.

    GE builds its own engines from a connection string and kwargs, so a plugin named in those kwargs
    is the one hook that reaches every engine (datasource and execution engine) it creates.
    """

    def __init__(self, url: Any, kwargs: dict[str, Any]) -> None:
        super().__init__(url, kwargs)
        self.statements = kwargs.pop("countyhub_on_connect")

    def update_url(self, url: Any) -> Any:
        return url

    def engine_created(self, engine: Any) -> None:
        statements = list(self.statements)

        @event.listens_for(engine, "connect")
        def _attach(dbapi_connection: Any, _record: Any) -> None:
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
    failures: list[RuleResult] = field(default_factory=list)


def _sql_literal(value: Any) -> str:
    """A SQL literal inside a GE query template (GE fills {batch} with str.format, so braces are doubled)."""
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


def _error(info: Any) -> str | None:
    """GE reports exceptions either flat or keyed by the metric that raised; find the first message."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception") or info.get("exception_message"):
        return info.get("exception_message") or "unknown error"
    return next((m for v in info.values() if (m := _error(v))), None)


def _expectation(rule: Rule) -> tuple[Any, str]:
    """The GE expectation for a rule and the threshold it enforces, in words."""
    col, p = rule.column, rule.params
    if rule.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=col), "no nulls"
    if rule.kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=col), "no duplicate values"
    if rule.kind == "compound_unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=p["columns"]), f"{p['columns']} unique together"
    if rule.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=col, value_set=p["values"]), f"in {p['values']}"
    if rule.kind == "range":
        return (gxe.ExpectColumnValuesToBeBetween(column=col, min_value=p["min"], max_value=p["max"]),
                f"between {p['min']} and {p['max']}")
    if rule.kind == "row_count":
        return (gxe.ExpectTableRowCountToBeBetween(min_value=p["min"], max_value=p["max"]),
                f"row count between {p['min']} and {p['max']}")
    if rule.kind == "columns":
        return gxe.ExpectTableColumnsToMatchSet(column_set=p["columns"], exact_match=True), f"columns {p['columns']}"
    # GE has no DuckDB regex dialect and its column-type metric cannot read DuckDB types, so these
    # run as unexpected-rows queries: still one SQL statement inside DuckDB, never rows in Python.
    if rule.kind == "regex":
        query = f"SELECT {col} FROM {{batch}} WHERE NOT regexp_matches({col}, {_sql_literal(p['pattern'])})"
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query), f"matches {p['pattern']}"
    if rule.kind == "type":
        # typeof() is the column's declared type; one row is enough to read it.
        query = (f"SELECT actual_type FROM (SELECT typeof({col}) AS actual_type FROM {{batch}} LIMIT 1) "
                 f"WHERE replace(actual_type, ' ', '') <> {_sql_literal(p['type'].replace(' ', '').upper())}")
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query), f"type {p['type']}"
    if rule.kind == "sql":
        inner = p["query"]
        for placeholder in ("${object}", "${table}", "{object}", "{table}"):
            inner = inner.replace(placeholder, "{batch}")
        query = f"SELECT v FROM ({inner}) AS q(v) WHERE NOT (v {p['op']} {_sql_literal(p['value'])})"
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query), f"query result {p['op']} {p['value']}"
    if rule.kind == "custom":
        kwargs = dict(p["kwargs"])
        if col and "column" not in kwargs:
            kwargs["column"] = col
        return get_expectation_impl(p["type"])(**kwargs), f"{p['type']} {kwargs}"
    raise ValueError(f"rule {rule.name}: unknown kind {rule.kind!r}")


def gate_rules(contract: Contract) -> list[Rule]:
    """The contract's rules plus the two every table gets: exactly its columns, and a row count to report."""
    columns = [c.name for c in contract.columns]
    return [*contract.rules, Rule(name="_columns", kind="columns", column=None, params={"columns": columns}),
            Rule(name="_row_count", kind="row_count", column=None, params={"min": 0, "max": None})]


def build_suite(contract: Contract) -> gx.ExpectationSuite:
    """The contract's rules as a GE suite; each expectation's meta names the rule it came from."""
    suite = gx.ExpectationSuite(name=f"{contract.dataset}-{contract.version}")
    for rule in gate_rules(contract):
        expectation, threshold = _expectation(rule)
        expectation.meta = {"rule": rule.name, "threshold": threshold}
        suite.add_expectation(expectation)
    return suite


def _observed(result: dict[str, Any], kind: str, types: dict[str, str], column: str | None) -> Any:
    if kind == "type":
        return types.get(column or "", "missing") if result.get("observed_value") else None
    if kind in ("row_count", "sql", "regex") or "unexpected_count" not in result:
        return result.get("observed_value")
    return result.get("unexpected_count")


def _column_types(datasource: Any, schema: str, table: str) -> dict[str, str]:
    """Declared column types, to name the actual type when a type rule fails (GE's result carries none)."""
    sql = sa.text("SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = :c "
                  "AND table_schema = :s AND table_name = :t")
    with datasource.get_engine().connect() as con:
        return {n: t.replace(" ", "") for n, t in con.execute(sql, {"c": LAKE, "s": schema, "t": table})}


def _message(rule: Rule, observed: Any, threshold: str, error: str | None) -> str:
    where, kind = rule.column or "table", rule.kind
    if error:
        return f"{where}: check could not run ({kind}): {error.splitlines()[0][:200]}"
    words = {"not_null": f"{observed} null values", "unique": f"{observed} rows with duplicate values",
             "compound_unique": f"{observed} rows with duplicate keys",
             "in_set": f"{observed} values outside the allowed set", "range": f"{observed} values out of range",
             "regex": f"{observed} values not matching the pattern", "type": f"type is {observed}",
             "row_count": f"{observed} rows", "sql": f"query returned {observed}"}
    return f"{where}: {words.get(kind, f'observed {observed}')} ({kind}; expected {threshold})"


def _table_name(contract: Contract, table: str | None) -> tuple[str, str]:
    parts = (table or f"audit.{contract.dataset}").split(".")
    if parts[0] == LAKE and len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"table must be <schema>.<table> in the lake, got {table!r}")
    return parts[0], parts[1]


def run_gate(lake: Lake, contract: Contract, table: str | None = None) -> GateResult:
    """Validate lake.<table> (default lake.audit.<dataset>) against the contract, inside DuckDB.

    Only reads: the lake is attached READ_ONLY on GE's own connections, and no writer lock is taken.
    A rule that cannot run counts as failed (the gate fails closed).
    """
    schema, name = _table_name(contract, table)
    started, run_id = datetime.now(UTC), uuid.uuid4().hex
    attach = lake.attach_sql(read_only=True)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_sql(
        name=f"lake_{run_id}", connection_string="duckdb:///:memory:",
        kwargs={"plugins": [PLUGIN], "countyhub_on_connect": [attach, f"USE {LAKE}.{schema}"],
                "connect_args": {"config": lake.duckdb_config()}},
    )
    # The connection's default schema is set above; GE drops schema_name in some metric queries.
    batch = datasource.add_table_asset(name=name, table_name=name).add_batch_definition_whole_table("all")
    rules = {r.name: r for r in gate_rules(contract)}
    try:
        # No run-wide result_format: each expectation's own applies (BASIC: counts and a small sample).
        validation = batch.get_batch().validate(build_suite(contract))
        types = _column_types(datasource, schema, name)
    finally:
        datasource.get_engine().dispose()
        datasource.get_execution_engine().engine.dispose()
    results, row_count = [], None
    for res in validation.results:
        meta = res.expectation_config.meta or {}
        rule, threshold = rules[meta["rule"]], meta.get("threshold", "")
        observed = _observed(res.result or {}, rule.kind, types, rule.column)
        error = _error(res.exception_info)
        if rule.name == "_row_count":
            row_count = observed
            if res.success:
                continue  # bookkeeping only: reported as GateResult.row_count
        results.append(RuleResult(
            rule=rule.name, column=rule.column, expectation=res.expectation_config.type, observed=observed,
            threshold=threshold, success=bool(res.success), severity=rule.severity,
            message="" if res.success else _message(rule, observed, threshold, error),
        ))
    failures = [r for r in results if not r.success and r.severity == "error"]
    warnings = [r for r in results if not r.success and r.severity == "warn"]
    reason = "; ".join(r.message for r in failures) or f"all {len(results) - len(warnings)} error rules passed"
    if warnings:
        reason += "; warnings: " + "; ".join(r.message for r in warnings)
    return GateResult(
        dataset=contract.dataset, table=f"{LAKE}.{schema}.{name}", run_id=run_id, success=not failures,
        results=results, reason=reason, started_at=started, finished_at=datetime.now(UTC),
        row_count=row_count, contract_version=contract.version, failures=failures,
    )
