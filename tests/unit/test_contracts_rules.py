"""Domain rules: the in-DuckDB resident-ID and credit-code checks agree with python-stdnum; divisions, mobile, dates."""

from __future__ import annotations

import random

import duckdb
import pytest
from great_expectations.expectations.registry import get_expectation_impl
from stdnum.cn import ric, uscc

from countyhub.contracts.rules.cn_ids import USCC_ALPHABET, register, ric_invalid_sql, uscc_invalid_sql
from countyhub.contracts.rules.divisions import county_codes, township_codes
from countyhub.contracts.rules.predicates import DOMAIN_EXPECTATIONS, violation_sql
from countyhub.core.resident_id import ric_regions


def _is_valid(check, value: str) -> bool:
    try:
        return bool(check(value))
    except Exception:  # noqa: BLE001 — stdnum raises KeyError for a province without counties: invalid
        return False


def _resident_ids(rng: random.Random, n: int) -> list[str | None]:
    codes = [c for c, _, _ in ric_regions()]
    out: list[str | None] = [None]
    for _ in range(n):
        code = rng.choice(codes) if rng.random() < 0.8 else f"{rng.randrange(10**6):06d}"
        body = f"{code}{rng.randrange(1, 9999):04d}{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}"
        number = body + f"{rng.randrange(1000):03d}"
        number += ric.calc_check_digit(number + "0")
        r = rng.random()  # corrupt some: check digit, a letter, truncation, case and spaces, a CJK character
        if r < 0.1:
            number = number[:-1] + rng.choice("0123456789Xx")
        elif r < 0.15:
            number = number[:5] + "A" + number[6:]
        elif r < 0.2:
            number = number[: rng.randrange(18)]
        elif r < 0.25:
            number = " " + number.lower() + " "
        elif r < 0.27:
            number = number[:3] + "公" + number[4:]
        out.append(number)
    return out


def _credit_codes(rng: random.Random, n: int) -> list[str | None]:
    out: list[str | None] = [None]
    for _ in range(n):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        r = rng.random()
        if r < 0.2:
            code = code[:-1] + rng.choice(USCC_ALPHABET)
        elif r < 0.25:
            code = code[:10] + "I" + code[11:]
        elif r < 0.3:
            code = code.lower()
        elif r < 0.35:
            code = code[:6] + "-" + code[6:]
        elif r < 0.37:
            code = "A" + code[1:]
        out.append(code)
    return out


@pytest.mark.parametrize(("generate", "predicate", "check"), [
    (_resident_ids, ric_invalid_sql, ric.is_valid), (_credit_codes, uscc_invalid_sql, uscc.is_valid)])
def test_in_database_check_agrees_with_stdnum(generate, predicate, check) -> None:
    values = generate(random.Random(11643), 8000)
    con = duckdb.connect()
    register(con)
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    got = [row[0] for row in con.execute(f"SELECT {predicate('v')} FROM t ORDER BY i").fetchall()]
    expected = [v is not None and not _is_valid(check, v) for v in values]
    assert 0.1 < sum(expected) / len(values) < 0.9  # both outcomes are exercised
    mismatches = [(v, g) for v, g, e in zip(values, got, expected, strict=True) if g != e]
    assert not mismatches


def test_register_is_idempotent() -> None:
    con = duckdb.connect()
    register(con)
    register(con)
    assert con.execute(f"SELECT {ric_invalid_sql(repr('11010519491231002X'))}").fetchone()[0] is False


def test_division_codes() -> None:
    assert {"511724", "510000", "110105"} <= county_codes() and "511799" not in county_codes()
    assert "511724001" in township_codes() and all(c.startswith("511724") for c in township_codes())
    sql = violation_sql("division_code", "c", alias="t")
    rows = duckdb.sql(f"SELECT c, {sql} FROM (VALUES ('511724'), ('511724001'), ('511724999'), ('5117'), (NULL)) "
                      "AS t(c) ORDER BY ALL").fetchall()
    assert dict(rows) == {"511724": False, "511724001": False, "511724999": True, "5117": True, None: False}


def test_mobile_and_not_future() -> None:
    mobile = violation_sql("mobile", "p", alias="t")
    rows = duckdb.sql(f"SELECT p, {mobile} FROM (VALUES ('13912345678'), ('12912345678'), ('1391234567'), (NULL)) "
                      "AS t(p)").fetchall()
    assert dict(rows) == {"13912345678": False, "12912345678": True, "1391234567": True, None: False}
    future = violation_sql("not_future", "d", alias="t")
    rows = duckdb.sql(f"SELECT d, {future} FROM (VALUES (current_date), (current_date + 1), (DATE '2000-01-01')) "
                      "AS t(d) ORDER BY d").fetchall()
    assert [r[1] for r in rows] == [False, False, True]


def test_domain_expectations_are_registered_with_great_expectations() -> None:
    import countyhub.contracts.rules.expectations  # noqa: F401 — registers them

    for name in DOMAIN_EXPECTATIONS:
        expectation = get_expectation_impl(name)(column="x")
        assert "{batch}" in expectation.unexpected_rows_query and '"x"' in expectation.unexpected_rows_query
