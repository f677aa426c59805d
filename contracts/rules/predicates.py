"""Row-level rules as SQL predicates that are TRUE for an offending row: one definition for gate, quarantine, samples."""

from __future__ import annotations

from typing import Any

from countyhub.contracts.rules.cn_ids import ric_invalid_sql, uscc_invalid_sql
from countyhub.contracts.rules.divisions import division_missing_sql

# Domain expectation type (as written in an ODCS custom rule) -> rule kind.
DOMAIN_EXPECTATIONS = {
    "expect_column_values_to_be_valid_cn_resident_id": "resident_id",
    "expect_column_values_to_be_valid_cn_credit_code": "credit_code",
    "expect_column_values_to_be_valid_cn_division_code": "division_code",
    "expect_column_values_to_be_valid_cn_mobile": "mobile",
    "expect_column_values_to_not_be_in_the_future": "not_future",
}
ROW_LEVEL = frozenset({"not_null", "in_set", "regex", "range", "foreign_key", *DOMAIN_EXPECTATIONS.values()})
MOBILE_PATTERN = "1[3-9][0-9]{9}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def violation_sql(kind: str, column: str, params: dict[str, Any] | None = None, alias: str = "_b") -> str:
    """A boolean SQL expression over `alias`, TRUE exactly for the rows that break the rule (never NULL).

    NULLs break only not_null: like Great Expectations, the other rules judge the values that are there.
    """
    p, col = params or {}, f"{alias}.{quote(column)}"
    if kind == "not_null":
        return f"({col} IS NULL)"
    if kind == "in_set":
        return f"({col} IS NOT NULL AND {col} NOT IN ({', '.join(literal(v) for v in p['values'])}))"
    if kind == "regex":
        return f"({col} IS NOT NULL AND NOT regexp_matches(CAST({col} AS VARCHAR), {literal(p['pattern'])}))"
    if kind == "range":
        bounds = [f"{col} < {literal(p['min'])}" if p.get("min") is not None else "",
                  f"{col} > {literal(p['max'])}" if p.get("max") is not None else ""]
        return f"({col} IS NOT NULL AND ({' OR '.join(b for b in bounds if b) or 'FALSE'}))"
    if kind == "resident_id":
        return ric_invalid_sql(col)
    if kind == "credit_code":
        return uscc_invalid_sql(col)
    if kind == "division_code":
        return division_missing_sql(col)
    if kind == "mobile":
        return f"({col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), '{MOBILE_PATTERN}'))"
    if kind == "not_future":
        # A DATE becomes midnight: today is never in the future.
        return f"({col} IS NOT NULL AND CAST({col} AS TIMESTAMP) > localtimestamp)"
    if kind == "foreign_key":
        ref = f"lake.{p.get('schema', 'shared')}.{quote(p['dataset'])}"
        return (f"({col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {ref} AS _ref "
                f"WHERE _ref.{quote(p['column'])} = {col}))")
    raise ValueError(f"rule kind {kind!r} is not a row-level rule (row-level: {sorted(ROW_LEVEL)})")


def duplicates_sql(column: str, table: str, alias: str = "_b") -> str:
    """TRUE for a row whose non-NULL value of column occurs more than once in table (GE's uniqueness semantics).

    A GROUP BY, not a window: DuckDB's hash aggregate spills under memory_limit, and only the repeated
    values (usually none) are joined back.
    """
    col = quote(column)
    return (f"({alias}.{col} IN (SELECT {col} FROM {table} WHERE {col} IS NOT NULL "
            f"GROUP BY {col} HAVING count(*) > 1))")
