"""Evidence for a failed rule: a few offending rows, masked by column classification, and the offending-row count."""

from __future__ import annotations

from typing import Any

import duckdb

from countyhub.contracts.odcs import Contract, Rule
from countyhub.contracts.rules.predicates import ROW_LEVEL, duplicates_sql, quote, violation_sql
from countyhub.core.masking import mask_rows

SAMPLE_LIMIT = 3


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def failing_samples(con: duckdb.DuckDBPyConnection, table: str, contract: Contract, rule: Rule,
                    limit: int = SAMPLE_LIMIT) -> list[dict[str, Any]]:
    """Up to `limit` rows breaking a row-level or uniqueness rule, PII masked; [] for table-level rules."""
    if rule.kind in ROW_LEVEL:
        where = violation_sql(rule.kind, rule.column or "", rule.params)
        sql = f"SELECT * FROM {table} AS _b WHERE {where} LIMIT {limit}"
    elif rule.kind == "unique":
        # The gate's own duplicate predicate (a spilling GROUP BY), not a window over the whole table.
        sql = (f"SELECT * FROM {table} AS _b WHERE {duplicates_sql(rule.column or '', table)} "
               f"ORDER BY _b.{quote(rule.column or '')} LIMIT {limit}")
    elif rule.kind == "compound_unique":
        keys = ", ".join(f'"{c}"' for c in (rule.params.get("columns") or [rule.column]))
        sql = (f"SELECT * FROM {table} QUALIFY count(*) OVER (PARTITION BY {keys}) > 1 "
               f"ORDER BY {keys} LIMIT {limit}")
    else:
        return []
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, map(_plain, row), strict=True)) for row in cursor.fetchall()]
    return mask_rows(rows, {c.name: c.classification for c in contract.columns})
