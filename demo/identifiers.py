"""Resident ID numbers (GB 11643), unified social credit codes (GB 32100) and mobile numbers."""

from __future__ import annotations

import random
from datetime import date
from functools import cache

from stdnum.cn import ric, uscc

from countyhub.demo.draws import choice

_MOBILE_PREFIXES = tuple(
    [f"13{d}" for d in range(10)]
    + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    + ["170", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["191", "198", "199"]
)
# GB 11714 organization code: weights for the 8 body characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@cache
def _digits(birth: date) -> str:
    """YYYYMMDD of a birth date (a county has a few tens of thousands of them, each for many residents)."""
    return birth.strftime("%Y%m%d")


def resident_id(rng: random.Random, division: str, birth: date, male: bool, taken: set[str]) -> str:
    """A resident ID not in `taken` (then added): the sequence's parity carries the gender (odd = 男)."""
    birth_part = _digits(birth)
    for _ in range(1000):
        # rng.randrange(1, 1000, 2) or (2, 1000, 2): an odd or even sequence, the same draw without its checks
        sequence = 1 + 2 * rng._randbelow(500) if male else 2 + 2 * rng._randbelow(499)  # type: ignore[attr-defined]
        body = f"{division}{birth_part}{sequence:03d}"
        # stdnum's calc_check_digit expects the full 18 characters and ignores the last one.
        number = body + ric.calc_check_digit(body + "0")
        if number not in taken:
            taken.add(number)
            return number
    raise RuntimeError(f"no free resident ID sequence left for {division} born {birth}")


def organization_code_check(body: str) -> str:
    """GB 11714 check character of an 8-digit organization code body (stdnum has no module for it)."""
    remainder = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def credit_code(rng: random.Random, registrar: str, division: str, taken: set[str]) -> str:
    """A USCC: registrar+type (e.g. '91'), division, organization code with its own check, USCC check."""
    for _ in range(1000):
        body = f"{rng.randrange(10**8):08d}"
        partial = f"{registrar}{division}{body}{organization_code_check(body)}"
        number = partial + uscc.calc_check_digit(partial)
        if number[8:17] not in taken:
            taken.add(number[8:17])
            return number
    raise RuntimeError("no free organization code left")


def mobile(rng: random.Random) -> str:
    return choice(rng, _MOBILE_PREFIXES) + f"{rng._randbelow(10**8):08d}"  # rng.randrange(10**8)
