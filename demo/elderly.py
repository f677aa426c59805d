"""mzj elderly allowance roll (高龄津贴发放名册): every registered resident aged 80+, exported monthly as GB18030 CSV."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from countyhub.demo.defects import spelled
from countyhub.demo.household import Person
from countyhub.demo.subsidy import write_printed_csv
from countyhub.demo.timeline import AS_OF, ROLL_MONTH

HEADERS = ("身份证号", "姓名", "年龄", "津贴类型", "月发放金额", "乡镇代码")
# (津贴类型, lowest age, monthly amount in CNY)
BANDS = (("100周岁以上", 100, 500), ("90-99周岁", 90, 200), ("80-89周岁", 80, 60))


def file_name(month: str = ROLL_MONTH) -> str:
    return f"elderly_allowance_{month}.csv"


def age_on(birth: str, day: date) -> int:
    born = date.fromisoformat(birth)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def build_allowances(rng: random.Random, persons: list[Person], day: date | None = None) -> list[tuple[str, ...]]:
    """One line per resident aged 80 or more on `day` (names as the bureau typed them: ~1.5% differ from gaj)."""
    day = day or AS_OF.date()
    rows = []
    for person in persons:
        age = age_on(person.birth_date, day)
        if age < 80:
            continue
        band, _, amount = next(b for b in BANDS if age >= b[1])
        rows.append((person.id_number, spelled(rng, person.name), str(age), band, f"{amount:.2f}",
                     person.township_code))
    rows.sort(key=lambda r: (r[5], r[0]))
    return rows


def write_allowances(path: Path, rows: list[tuple[str, ...]], month: str = ROLL_MONTH) -> None:
    year, mon = month.split("-")
    write_printed_csv(path, f"大竹县民政局高龄津贴发放名册（{year}年{int(mon)}月）", "填报单位：大竹县民政局养老服务股",
                      HEADERS, rows, HEADERS.index("月发放金额"), month)
