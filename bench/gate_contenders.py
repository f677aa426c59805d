"""The three gate contenders, each run in its own subprocess: our GE-on-DuckDB gate, one hand-written SQL, GE pandas."""

from __future__ import annotations

import importlib
import time
from typing import Any

from bench.gate_data import DATASET
from countyhub.contracts.odcs import Contract
from countyhub.contracts.rules.cn_ids import register, ric_invalid_sql, uscc_invalid_sql
from countyhub.contracts.rules.divisions import county_codes, township_codes
from countyhub.contracts.rules.predicates import MOBILE_PATTERN
from countyhub.lakehouse.lake import Lake


def gate(lake: Lake, contract: Contract) -> dict[str, Any]:
    """countyhub's gate as `countyhub build` runs it: the GE suite compiled from the ODCS contract, run inside
    DuckDB (15 rules, a type rule per column, the column set), failing samples masked, Data Docs written."""
    from countyhub.contracts.gate import run_gate

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


def pandas_ge(lake: Lake, contract: Contract) -> dict[str, Any]:
    """Great Expectations' pandas path: the table pulled into a DataFrame, the same 15 rules and the type rules.

    Built-in expectations where GE has one. The resident-ID and credit-code checks are the gate's own:
    stdnum.cn.ric/uscc.is_valid, called ONCE per value into a flag column that a built-in expectation checks.
    (A custom GE pandas map expectation re-evaluates its condition for each result metric — 4× per value,
    135 s on 100k rows in a profile — so this is the cheapest way a GE pandas user gets these checks.)
    The reference table of the foreign key is read from the lake too.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from stdnum.cn import ric, uscc

    with lake.reader() as con:
        frame = con.execute(f"SELECT * FROM lake.audit.{DATASET}").df()
        prev = con.execute("SELECT max(rows) FROM lake.meta.publications WHERE dataset = ?", [DATASET]).fetchone()[0]
        grids = [r[0] for r in con.execute("SELECT grid_code FROM lake.shared.bench_grids").fetchall()]
    flags = {"id_number": ric.is_valid, "employer_uscc": uscc.is_valid}
    for column, is_valid in flags.items():  # NULL stays NULL: GE's in-set skips it, as the gate skips NULLs
        frame[f"_{column}_valid"] = frame[column].map(is_valid, na_action="ignore")
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
        gxe.ExpectColumnValuesToBeInSet(column="_id_number_valid", value_set=[True]),
        gxe.ExpectColumnValuesToNotBeNull(column="name"),
        gxe.ExpectColumnValuesToBeInSet(column="_employer_uscc_valid", value_set=[True]),
        gxe.ExpectColumnValuesToMatchRegex(column="township_code", regex=r"^511724[0-9]{3}$"),
        gxe.ExpectColumnValuesToBeInSet(column="township_code", value_set=sorted(county_codes() | township_codes())),
        gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=f"^{MOBILE_PATTERN}$"),
        gxe.ExpectColumnValuesToBeBetween(column="birth_date", max_value=pd.Timestamp.now()),  # a date bound errors on datetime64,
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["open", "closed"]),
        gxe.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=130),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="grid_code", value_set=grids),
    ]
    # The gate's bookkeeping rules too: exactly these columns, and each column's type (pandas dtypes).
    table = [c for c in frame.columns if c.removeprefix("_").removesuffix("_valid") not in flags]
    rules.append(gxe.ExpectTableColumnsToMatchSet(column_set=table, exact_match=False))
    rules += [gxe.ExpectColumnValuesToBeOfType(column=c, type_=str(frame.dtypes[c])) for c in table]
    for e in rules:
        suite.add_expectation(e)
    result = batch.validate(suite)
    failed = [f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', '')})"
              for r in result.results if not r.success]
    return {"failed": sorted(failed),
            "rules": len(result.results)}


CONTENDERS = {"gate": gate, "hand_sql": hand_sql, "ge_pandas": pandas_ge}


# The heavy imports each contender pays once per process (GE takes seconds): timed apart, still counted in seconds.
IMPORTS = {"gate": "countyhub.contracts.gate", "ge_pandas": "great_expectations", "hand_sql": "duckdb"}


def run(name: str, lake: Lake, contract: Contract) -> dict[str, Any]:
    started = time.perf_counter()
    importlib.import_module(IMPORTS[name])
    imported = time.perf_counter()
    out = CONTENDERS[name](lake, contract)
    return {**out, "seconds": round(time.perf_counter() - started, 3), "import_s": round(imported - started, 3)}
