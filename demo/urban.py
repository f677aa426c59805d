"""cgj digital urban management (数字城管): grid cells per township, facilities and cases per grid."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from countyhub.demo.divisions import TOWNSHIPS, Township
from countyhub.demo.draws import choice, pick, randint
from countyhub.demo.timeline import AS_OF, random_datetime, stamp

FACILITY_TYPES = (("路灯", 35), ("垃圾桶", 30), ("井盖", 20), ("消防栓", 10), ("公厕", 5))
FACILITY_STATUSES = (("正常", 85), ("损坏", 9), ("维修中", 6))
CASE_DETAILS = {
    "占道经营": ("流动摊贩占用人行道经营", "店外摆摊占道", "早市摊点占用车行道"),
    "乱堆乱放": ("建筑垃圾堆放路边", "杂物堆放楼道口", "废旧家具堆放绿化带"),
    "设施损坏": ("路灯不亮", "井盖破损", "垃圾桶损坏", "公厕水龙头漏水"),
    "违章搭建": ("楼顶违规搭建彩钢棚", "院坝违规搭建偏房", "临街违规搭建雨棚"),
}
_PLACES = ("农贸市场旁", "学校门口", "小区入口", "车站附近", "河堤步道", "商业街", "场镇中心")

GRIDS_DDL = """CREATE TABLE grids (
    grid_code TEXT PRIMARY KEY, grid_name TEXT NOT NULL, township_code TEXT NOT NULL,
    area_km2 REAL NOT NULL, updated_at TEXT NOT NULL)"""
FACILITIES_DDL = """CREATE TABLE facilities (
    facility_id INTEGER PRIMARY KEY, facility_type TEXT NOT NULL, name TEXT NOT NULL,
    grid_code TEXT NOT NULL, longitude REAL NOT NULL, latitude REAL NOT NULL, status TEXT NOT NULL,
    updated_at TEXT NOT NULL)"""
CASES_DDL = """CREATE TABLE cases (
    case_id INTEGER PRIMARY KEY, grid_code TEXT NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL,
    reported_at TEXT NOT NULL, status TEXT NOT NULL, closed_at TEXT, updated_at TEXT NOT NULL,
    dispatched_at TEXT, disposed_at TEXT, handling_department TEXT, deadline_hours INTEGER NOT NULL)"""


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return pick(rng, weighted)


def build_urban(rng: random.Random) -> dict[str, list[tuple]]:
    """Rows of grids, facilities and cases; independent of the population size."""
    grids: list[tuple] = []
    facilities: list[tuple] = []
    cases: list[tuple] = []
    for township in TOWNSHIPS:
        for n in range(1, randint(rng, 3, 6) + 1):
            grid_code = f"{township.code}-{n:02d}"
            area = rng.uniform(0.4, 3.0) if township.is_urban else rng.uniform(5.0, 40.0)
            grids.append((grid_code, f"{township.name}第{n}网格", township.code, round(area, 2),
                          stamp(random_datetime(rng, datetime(2023, 1, 1), AS_OF))))
            # Grid centres spread around the township centre; facilities cluster around their grid.
            grid_lon = township.longitude + rng.uniform(-0.02, 0.02)
            grid_lat = township.latitude + rng.uniform(-0.02, 0.02)
            for _ in range(randint(rng, 15, 25)):
                facilities.append(facility(rng, len(facilities) + 1, township, grid_code, grid_lon, grid_lat))
            for _ in range(randint(rng, 6, 14)):
                cases.append(_case(rng, len(cases) + 1, grid_code, township.name))
    return {"grids": grids, "facilities": facilities, "cases": cases}


def facility(rng: random.Random, facility_id: int, township: Township, grid_code: str, grid_lon: float,
             grid_lat: float) -> tuple:
    """One facility row, placed near its grid's centre."""
    kind = _pick(rng, FACILITY_TYPES)
    return (
        facility_id, kind, f"{township.name}{kind}{facility_id:05d}", grid_code,
        round(grid_lon + rng.uniform(-0.004, 0.004), 6),
        round(grid_lat + rng.uniform(-0.004, 0.004), 6),
        _pick(rng, FACILITY_STATUSES),
        stamp(random_datetime(rng, datetime(2022, 1, 1), AS_OF)),
    )


def build_urban_county(rng: random.Random, grids: int, facilities: int, cases: int) -> dict[str, list[tuple]]:
    """Exactly `grids` cells (街道 denser), `facilities` facilities and `cases` cases of the year before AS_OF."""
    weights = [30 if t.is_urban else 10 for t in TOWNSHIPS]
    per_township = [grids * w // sum(weights) for w in weights]
    for i in range(grids - sum(per_township)):
        per_township[i % len(TOWNSHIPS)] += 1
    cells: list[tuple[Township, str, float, float]] = []
    grid_rows: list[tuple] = []
    for township, count in zip(TOWNSHIPS, per_township):
        for n in range(1, count + 1):
            grid_code = f"{township.code}-{n:03d}"
            area = rng.uniform(0.05, 0.4) if township.is_urban else rng.uniform(1.0, 8.0)
            grid_rows.append((grid_code, f"{township.name}第{n}网格", township.code, round(area, 2),
                              stamp(random_datetime(rng, datetime(2023, 1, 1), AS_OF))))
            cells.append((township, grid_code, township.longitude + rng.uniform(-0.03, 0.03),
                          township.latitude + rng.uniform(-0.03, 0.03)))
    facility_rows = [facility(rng, n, *cell) for n, cell in enumerate(rng.choices(cells, k=facilities), start=1)]
    since = AS_OF - timedelta(days=365)
    case_rows = [_case(rng, n, cell[1], cell[0].name, since)
                 for n, cell in enumerate(rng.choices(cells, k=cases), start=1)]
    case_rows.sort(key=lambda c: c[4])  # case numbers follow the reporting time, as the system assigns them
    case_rows = [(n, *c[1:]) for n, c in enumerate(case_rows, start=1)]
    return {"grids": grid_rows, "facilities": facility_rows, "cases": case_rows}


def _case(rng: random.Random, case_id: int, grid_code: str, township_name: str,
          since: datetime = datetime(2025, 1, 1)) -> tuple:
    category = choice(rng, tuple(CASE_DETAILS))
    description = f"{township_name}{choice(rng, _PLACES)}{choice(rng, CASE_DETAILS[category])}"
    reported = random_datetime(rng, since, AS_OF)
    closed = None
    if rng.random() < 0.7:
        closed = min(reported + timedelta(minutes=randint(rng, 30, 14 * 24 * 60)), AS_OF)
    updated = closed or reported
    return (case_id, grid_code, category, description, stamp(reported), "closed" if closed else "open",
            stamp(closed) if closed else None, stamp(updated))
