"""Dazhu County (大竹县, 511724) and its townships: the real divisions the demo county lives in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

PROVINCE_NAME = "四川省"
CITY_NAME = "达州市"
COUNTY_NAME = "大竹县"
COUNTY_CODE = "511724"
# Until 1999 Dazhu was 513029 under 达川地区; an ID number keeps the code it was issued under, and
# stdnum checks the code against the birth year, so residents born before 1999 carry the old code.
FORMER_COUNTY_CODE = "513029"
COUNTY_CODE_SINCE = 1999
# County seat, from cpca's GB/T 2260 table; township centres below are offsets from it.
COUNTY_LONGITUDE = 107.204795
COUNTY_LATITUDE = 30.73641


@dataclass(frozen=True)
class Township:
    """A 乡镇/街道: 9-digit code (GB/T 10114 style: 0xx 街道, 1xx 镇, 2xx 乡), name and map centre."""

    code: str
    name: str
    longitude: float
    latitude: float

    @property
    def kind(self) -> str:
        return self.name[-2:] if self.name.endswith("街道") else self.name[-1]

    @property
    def is_urban(self) -> bool:
        return self.kind == "街道"

    @property
    def full_address_prefix(self) -> str:
        return f"{PROVINCE_NAME}{CITY_NAME}{COUNTY_NAME}{self.name}"


def _township(serial: str, name: str, d_lon: float, d_lat: float) -> Township:
    return Township(f"{COUNTY_CODE}{serial}", name, round(COUNTY_LONGITUDE + d_lon, 6),
                    round(COUNTY_LATITUDE + d_lat, 6))


# Real township names of Dazhu; codes follow the GB/T 10114 numbering blocks, centres are approximate.
TOWNSHIPS: tuple[Township, ...] = (
    _township("001", "竹阳街道", 0.000, 0.000),
    _township("002", "东柳街道", 0.022, 0.008),
    _township("003", "白塔街道", -0.015, 0.012),
    _township("100", "观音镇", -0.120, -0.060),
    _township("101", "庙坝镇", 0.150, 0.110),
    _township("102", "石河镇", 0.080, 0.060),
    _township("103", "杨家镇", -0.060, 0.090),
    _township("104", "清河镇", 0.110, -0.050),
    _township("105", "周家镇", -0.090, -0.120),
    _township("106", "石桥铺镇", 0.050, -0.100),
    _township("107", "月华镇", 0.180, 0.020),
    _township("200", "川主乡", -0.150, 0.040),
)

TOWNSHIP_BY_CODE: dict[str, Township] = {t.code: t for t in TOWNSHIPS}


def id_division_code(birth_year: int) -> str:
    """The 6-digit division code at the head of the ID number of a resident born in `birth_year`."""
    return COUNTY_CODE if birth_year >= COUNTY_CODE_SINCE else FORMER_COUNTY_CODE


@cache
def validate_county() -> None:
    """Fail loudly if the county code/name stops matching the national division table (cpca, GB/T 2260)."""
    import cpca  # slow to import (loads its address tables): only when asked

    expected = {COUNTY_CODE: COUNTY_NAME, COUNTY_CODE[:4]: CITY_NAME, COUNTY_CODE[:2]: PROVINCE_NAME}
    for code, name in expected.items():
        found = cpca.adcode_name(code)
        if found != name:
            raise ValueError(f"division code {code} is {found!r} in cpca, expected {name!r}")
