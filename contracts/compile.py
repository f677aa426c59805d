"""Compile an ODCS contract's rules into a Great Expectations suite: one expectation per rule, thresholds in words."""

from __future__ import annotations

import math
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.registry import get_expectation_impl

from countyhub.contracts.odcs import Contract, Rule
from countyhub.contracts.rules.expectations import EXPECTATIONS, ExpectQueryToReturnNoRows, rows_query
from countyhub.contracts.rules.predicates import DOMAIN_EXPECTATIONS, violation_sql


def _sql_literal(value: Any) -> str:
    """A SQL literal inside a GE query template (GE fills {batch} with str.format, so braces are doubled)."""
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


def error_message(info: Any) -> str | None:
    """GE reports exceptions either flat or keyed by the metric that raised; find the first message."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception") or info.get("exception_message"):
        return info.get("exception_message") or "unknown error"
    return next((m for v in info.values() if (m := error_message(v))), None)


def _expectation(rule: Rule, previous_rows: int | None = None) -> tuple[Any, str]:
    """The GE expectation for a rule and the threshold it enforces, in words."""
    col, p = rule.column, rule.params
    if rule.kind in DOMAIN_EXPECTATIONS.values():
        return EXPECTATIONS[rule.kind](column=col, **p), f"{rule.kind.replace('_', ' ')} valid"
    if rule.kind == "foreign_key":
        return (EXPECTATIONS["foreign_key"](column=col, dataset=p["dataset"], reference_column=p["column"]),
                f"exists in shared.{p['dataset']}.{p['column']}")
    if rule.kind == "volume":
        # The last published row count is read before the run: the check itself is a plain row-count bound.
        low = 0 if previous_rows is None else math.ceil(previous_rows * (1 - p["max_drop_percent"] / 100))
        was = "no earlier version" if previous_rows is None else f"last published {previous_rows}"
        return (gxe.ExpectTableRowCountToBeBetween(min_value=low, max_value=None),
                f"row count >= {low} (drop <= {p['max_drop_percent']}%, {was})")
    if rule.severity == "quarantine":
        # The same predicate decides which rows publish skips, so the counts always add up.
        return (ExpectQueryToReturnNoRows(unexpected_rows_query=rows_query(violation_sql(rule.kind, col, p))),
                f"no rows breaking {rule.kind} (else quarantined)")
    if rule.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=col), "no nulls"
    if rule.kind == "unique":
        return EXPECTATIONS["unique"](column=col), "no duplicate values"
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
        return ExpectQueryToReturnNoRows(unexpected_rows_query=query), f"matches {p['pattern']}"
    if rule.kind == "type":
        # typeof() is the column's declared type; one row is enough to read it.
        query = (f"SELECT actual_type FROM (SELECT typeof({col}) AS actual_type FROM {{batch}} LIMIT 1) "
                 f"WHERE replace(actual_type, ' ', '') <> {_sql_literal(p['type'].replace(' ', '').upper())}")
        return ExpectQueryToReturnNoRows(unexpected_rows_query=query), f"type {p['type']}"
    if rule.kind == "sql":
        inner = p["query"]
        for placeholder in ("${object}", "${table}", "{object}", "{table}"):
            inner = inner.replace(placeholder, "{batch}")
        query = f"SELECT v FROM ({inner}) AS q(v) WHERE NOT (v {p['op']} {_sql_literal(p['value'])})"
        return ExpectQueryToReturnNoRows(unexpected_rows_query=query), f"query result {p['op']} {p['value']}"
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


def build_suite(contract: Contract, previous_rows: int | None = None) -> gx.ExpectationSuite:
    """The contract's rules as a GE suite; each expectation's meta names the rule it came from."""
    suite, seen = gx.ExpectationSuite(name=f"{contract.dataset}-{contract.version}"), set()
    for rule in gate_rules(contract):
        expectation, threshold = _expectation(rule, previous_rows)
        key = (expectation.expectation_type, repr(sorted(expectation.configuration.kwargs.items())))
        if key in seen:
            continue  # GE keeps one of identical expectations (a first volume check is the plain row count)
        seen.add(key)
        expectation.meta = {"rule": rule.name, "threshold": threshold}
        suite.add_expectation(expectation)
    return suite
