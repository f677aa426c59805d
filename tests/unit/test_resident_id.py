"""Resident ID numbers: the vectorized fast path agrees with python-stdnum; each reason in plain words."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

import pyarrow as pa
import pytest
from stdnum.cn import ric

from countyhub.core.resident_id import check_column, problem, ric_regions, ric_valid

TODAY = date(2026, 5, 1)


def _stdnum_valid(value: str) -> bool:
    """stdnum.cn.ric.is_valid on the value as the loader sees it: NFKC, so a full-width Ｘ is an X (stdnum
    maps full-width digits only); stdnum 2.2 raises KeyError for some province-only codes: not valid."""
    try:
        return ric.is_valid(unicodedata.normalize("NFKC", value))
    except KeyError:
        return False


def _generated(rng: random.Random, n: int) -> list[str]:
    """Valid numbers (real regions in the years they existed) and the ways they get corrupted on the way in."""
    regions = ric_regions()
    out = []
    for _ in range(n):
        code, first, last = rng.choice(regions)
        low = max(first, 1900)
        year = rng.randint(low, max(low, min(last, 2030))) if rng.random() < 0.9 else rng.randrange(1, 9999)
        body = f"{code}{year:04d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        r = rng.random()
        if r < 0.08:
            number = number[:-1] + rng.choice("0123456789X")  # a mistyped check digit
        elif r < 0.12:
            number = number[:10] + rng.choice(["13", "00", "02"]) + rng.choice(["30", "31", "00", "32"]) + number[14:]
        elif r < 0.16:
            number = number[:17]  # truncated
        elif r < 0.2:
            number = f" {number.lower()} "  # lowercase x, spaces around
        elif r < 0.24:
            number = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))  # full-width
        elif r < 0.27:
            number = f"{int(number[:17]) * 10:.5E}"  # Excel's float
        elif r < 0.3:
            number = f"{rng.randrange(10**6):06d}" + number[6:]  # a region that may not exist
        out.append(number)
    return out


def test_vectorized_check_agrees_with_stdnum_on_thousands_of_numbers() -> None:
    values = _generated(random.Random(11643), 6000)
    got = ric_valid(pa.array([unicodedata.normalize("NFKC", v) for v in values])).to_pylist()
    expected = [_stdnum_valid(v) for v in values]
    assert 0.3 < sum(expected) / len(values) < 0.9  # both outcomes are exercised
    assert [v for v, g, e in zip(values, got, expected, strict=True) if g != e] == []


def test_load_check_agrees_with_stdnum_and_the_calendar() -> None:
    values = _generated(random.Random(32100), 6000)
    normalised, reasons = check_column("身份证号", pa.array(values), TODAY)
    for i, value in enumerate(values):
        value = unicodedata.normalize("NFKC", value)
        valid = _stdnum_valid(value) and ric.get_birth_date(value) <= TODAY
        assert (i not in reasons) == valid, (value, reasons.get(i))
        if valid:
            assert normalised[i].as_py() == ric.compact(value)  # what is loaded: x -> X, half-width, trimmed
    assert any(_stdnum_valid(v) and ric.get_birth_date(v) > TODAY for v in values)  # the future is exercised


@pytest.mark.parametrize(("value", "reason"), [
    ("511724199901010014", "has a wrong check digit (GB 11643 gives 3)"),
    ("511724199913010010", "has an impossible birth date (19991301)"),
    ("511724202302290011", "has an impossible birth date (20230229)"),
    ("51172420990101001X", "has a birth date in the future (2099-01-01)"),
    ("000000199901010013", "has an unknown birth place (region 000000 did not exist in 1999)"),
    ("511724198001010013", "has an unknown birth place (region 511724 did not exist in 1980)"),
    ("5.11724E+17", "is a number that lost digits (Excel stores ID numbers as floats)"),
    ("51172419990101001", "has 17 digits: it was cut short (a resident ID number has 18)"),
    ("511724990101001", "is a 15-digit first-generation ID number; the 18-digit number is needed"),
    ("5117241999０1010013", None),  # full-width digits are the same number
    ("51172419990101003x", None),
    ("51172419990101A013", "is not an 18-character resident ID number"),
    ("张三", "is not an 18-character resident ID number"),
], ids=["check-digit", "month-13", "feb-29-not-leap", "future", "unknown-region", "region-not-yet", "lost-digits",
        "truncated", "first-generation", "full-width", "lowercase-x", "letter", "name"])
def test_each_problem_has_its_own_reason(value: str, reason: str | None) -> None:
    assert problem(value, TODAY) == reason


def test_a_column_is_normalised_and_each_bad_value_named() -> None:
    column = pa.array(["511724199901010013", "51172419990101003x", " ５１１７２４１９９９０１０１００１３ ", "", None,
                       "511724199901010014"])
    normalised, reasons = check_column("身份证号", column, TODAY)
    assert normalised.to_pylist() == ["511724199901010013", "51172419990101003X", "511724199901010013", "", None,
                                      "511724199901010014"]
    assert reasons == {5: "身份证号: '511724199901010014' has a wrong check digit (GB 11643 gives 3)"}
