"""The three gate contenders, each run in its own subprocess: our GE-on-DuckDB gate, one hand-written SQL, GE pandas."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench.gate_data import DATASET
from contracts.odcs import Contract
from contracts.rules.cn_ids import register, ric_invalid_sql, uscc_invalid_sql
from contracts.rules.divisions import county_codes, township_codes
from contracts.rules.predicates import MOBILE_PATTERN
from lakehouse.lake import Lake


def gate(lake: Lake, contract: Contract) -> dict[str, Any]:
    """countyhub's gate as `countyhub build` runs it: the GE suite compiled from the ODCS contract, run inside
    DuckDB (15 rules, a type rule per column, the column set), failing samples masked, Data Docs written."""
    from contracts.gate import run_gate

    result = run_gate(lake, contract)
    return {"failed": sorted(r.rule for r in result.results if not r.success), "rules": len(result.results)}


def hand_sql(lake: Lake, contract: Contract) -> dict[str, Any]:
    """The same 15 checks as ONE query, hand-tuned: lookups as joins, one scan, every count in one pass."""
    divisions = ", ".join(f"('{c}')" for c in sorted(county_codes() | township_codes()))
    sql = f"""
    SELECT count(*) AS row_count,
      count(*) > 0 AS not_empty,
      count(*) >= ceil((SELECT max(rows) FROM lake.meta.publications WHERE dataset = '{DATASET}') * 0.8) AS no_loss,
      count_if(b.id_number IS NULL) AS id_null,
      count(*) - count(DISTINCT b.id_number) AS id_dupes,
      count_if({ric_invalid_sql('b.id_number')}) AS id_bad,
      count_if(b.name IS NULL) AS name_null,
      count_if({uscc_invalid_sql('b.employer_uscc')}) AS uscc_bad,
      count_if(NOT regexp_matches(b.township_code, '^511724[0-9]{{3}}$')) AS township_pattern,
      count_if(b.township_code IS NOT NULL AND d.code IS NULL) AS township_missing,
      count_if(NOT regexp_full_match(b.phone, '{MOBILE_PATTERN}')) AS phone_bad,
      count_if(b.birth_date > current_date) AS born_future,
      count_if(b.status NOT IN ('open', 'closed')) AS status_bad,
      count_if(b.age < 0 OR b.age > 130) AS age_bad,
      count_if(b.amount < 0) AS amount_bad,
      count_if(b.grid_code IS NOT NULL AND g.grid_code IS NULL) AS grid_missing
    FROM lake.audit.{DATASET} AS b
    LEFT JOIN (VALUES {divisions}) AS d(code) ON d.code = b.township_code
    LEFT JOIN lake.shared.bench_grids AS g ON g.grid_code = b.grid_code"""
    with lake.reader() as con:
        register(con)  # the same vectorized resident-ID / credit-code functions the gate uses
        cur = con.execute(sql)
        row = dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))
    failed = [k for k, v in row.items() if k != "row_count" and (v is False or (v is not True and v))]
    return {"failed": sorted(failed), "rules": len(row) - 1}


def _stdnum_expectations() -> tuple[type, type]:
    """GE pandas custom expectations for GB 11643 / GB 32100: what a GE pandas user writes, stdnum per value."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial
    from stdnum.cn import ric, uscc

    class ColumnValuesStdnumCnRic(ColumnMapMetricProvider):
        condition_metric_name = "column_values.stdnum_cn_ric"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: Any, **kwargs: Any) -> Any:
            return column.map(ric.is_valid)

    class ColumnValuesStdnumCnUscc(ColumnMapMetricProvider):
        condition_metric_name = "column_values.stdnum_cn_uscc"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: Any, **kwargs: Any) -> Any:
            return column.map(uscc.is_valid)

    class ExpectColumnValuesToBeValidCnResidentIdPandas(ColumnMapExpectation):
        map_metric = "column_values.stdnum_cn_ric"

    class ExpectColumnValuesToBeValidCnCreditCodePandas(ColumnMapExpectation):
        map_metric = "column_values.stdnum_cn_uscc"

    return ExpectColumnValuesToBeValidCnResidentIdPandas, ExpectColumnValuesToBeValidCnCreditCodePandas


def pandas_ge(lake: Lake, contract: Contract) -> dict[str, Any]:
    """Great Expectations' pandas path: the table pulled into a DataFrame, the same 15 rules and the type rules.

    Built-in expectations where GE has one; the resident-ID and credit-code checksums are custom pandas
    expectations calling stdnum.cn.ric/uscc.is_valid per value (GE's own map-metric machinery, NULLs skipped),
    i.e. the same checks the gate makes. The reference table of the foreign key is read from the lake too.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ric_valid, uscc_valid = _stdnum_expectations()
    with lake.reader() as con:
        frame = con.execute(f"SELECT * FROM lake.audit.{DATASET}").df()
        prev = con.execute("SELECT max(rows) FROM lake.meta.publications WHERE dataset = ?", [DATASET]).fetchone()[0]
        grids = [r[0] for r in con.execute("SELECT grid_code FROM lake.shared.bench_grids").fetchall()]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("p").add_dataframe_asset(DATASET)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name="bench")
    rules = [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectTableRowCountToBeBetween(min_value=int(prev * 0.8)),
        gxe.ExpectColumnValuesToNotBeNull(column="id_number"),
        gxe.ExpectColumnValuesToBeUnique(column="id_number"),
        ric_valid(column="id_number"),
        gxe.ExpectColumnValuesToNotBeNull(column="name"),
        uscc_valid(column="employer_uscc"),
        gxe.ExpectColumnValuesToMatchRegex(column="township_code", regex=r"^511724[0-9]{3}$"),
        gxe.ExpectColumnValuesToBeInSet(column="township_code", value_set=sorted(county_codes() | township_codes())),
        gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=f"^{MOBILE_PATTERN}$"),
        gxe.ExpectColumnValuesToBeBetween(column="birth_date", max_value=dt.date.today()),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["open", "closed"]),
        gxe.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=130),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="grid_code", value_set=grids),
    ]
    # The gate's bookkeeping rules too: exactly these columns, and each column's type (pandas dtypes).
    rules.append(gxe.ExpectTableColumnsToMatchSet(column_set=list(frame.columns), exact_match=True))
    rules += [gxe.ExpectColumnValuesToBeOfType(column=c, type_=str(t)) for c, t in frame.dtypes.items()]
    for e in rules:
        suite.add_expectation(e)
    result = batch.validate(suite)
    return {"failed": sorted(r.expectation_config.type for r in result.results if not r.success),
            "rules": len(result.results)}


CONTENDERS = {"gate": gate, "hand_sql": hand_sql, "ge_pandas": pandas_ge}


def run(name: str, lake: Lake, contract: Contract) -> dict[str, Any]:
    started = time.perf_counter()
    out = CONTENDERS[name](lake, contract)
    return {**out, "seconds": round(time.perf_counter() - started, 3)}
