"""The dbt macro uscc_is_valid (GB 32100 in SQL) agrees with stdnum and the gate's vectorized rule."""

from __future__ import annotations

import random

import duckdb
import jinja2
from stdnum.cn import uscc

from countyhub.contracts.rules.cn_ids import register, uscc_invalid_sql
from countyhub.core.settings import PROJECT_DIR
from tests.unit.test_contracts_rules import _credit_codes

MACRO = PROJECT_DIR / "dbt_project" / "macros" / "uscc_is_valid.sql"
# Hand-picked: a valid code, its check character wrong, I/O (not in the alphabet), a letter in the first eight,
# lower case, dashes and spaces, surrounding whitespace, too short, too long, empty, NULL.
EXAMPLES = ["91511724MA0000001" + uscc.calc_check_digit("91511724MA0000001"), "91511724MA00000010",
            "91511724MI0000001X", "9151172OMA00000010", "91350100m000100y43", "9135-0100 M000100Y43",
            "\t91350100M000100Y43\n", "91350100M000100Y4", "91350100M000100Y433", "", None]


def macro_sql(column: str) -> str:
    """The macro rendered as dbt would render it (it calls no adapter, so plain Jinja is enough)."""
    module = jinja2.Environment().from_string(MACRO.read_text(encoding="utf-8")).module
    return str(module.uscc_is_valid(column))


def _stdnum_valid(value: str | None) -> bool | None:
    return None if value is None else bool(uscc.is_valid(value))


def _checked(values: list[str | None]) -> list[tuple[str | None, bool | None, bool]]:
    con = duckdb.connect()
    register(con)
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    return con.execute(f"SELECT v, {macro_sql('v')}, {uscc_invalid_sql('v')} FROM t ORDER BY i").fetchall()


def test_the_macro_agrees_with_stdnum_and_the_gate_on_hand_picked_codes() -> None:
    rows = _checked(EXAMPLES)
    assert [r[1] for r in rows] == [True, False, False, False, True, True, True, False, False, False, None]
    for value, sql_valid, gate_invalid in rows:
        assert sql_valid == _stdnum_valid(value), value
        assert gate_invalid == (value is not None and not sql_valid), value


def test_the_macro_agrees_with_stdnum_on_generated_codes() -> None:
    values = _credit_codes(random.Random(32100), 3000)
    rows = _checked(values)
    assert 0.1 < sum(bool(r[1]) for r in rows) / len(rows) < 0.9  # both outcomes exercised
    assert [r[1] for r in rows] == [_stdnum_valid(v) for v in values]
    assert [r[2] for r in rows] == [v is not None and not r[1] for v, r in zip(values, rows, strict=True)]
