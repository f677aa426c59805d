"""Generate the demo county's source systems under {home}/demo, deterministically from one seed."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from countyhub.demo import enterprises, household, subsidy, urban
from countyhub.demo.divisions import TOWNSHIPS, validate_county
from countyhub.demo.timeline import DATETIME_FORMAT

DEFAULT_SEED = 2016
GAJ_DB = "gaj_household.db"
CGJ_DB = "cgj_urban.db"
ENTERPRISES_JSON = "scjgj_enterprises.json"
MZJ_DROP = Path("drops") / "mzj"
MANIFEST_JSON = "manifest.json"


@dataclass
class Manifest:
    """What a generation produced: row counts per `<department>.<stream>`, the townships and the files."""

    seed: int
    counts: dict[str, int]
    townships: int
    township_codes: list[str]
    files: dict[str, str] = field(default_factory=dict)  # source -> path relative to {home}/demo

    def save(self, home: Path) -> Path:
        path = demo_dir(home) / MANIFEST_JSON
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                        encoding="utf-8")
        return path


def demo_dir(home: Path) -> Path:
    return Path(home) / "demo"


def load_manifest(home: Path) -> Manifest:
    """The manifest of the last generate() into this home."""
    data = json.loads((demo_dir(home) / MANIFEST_JSON).read_text(encoding="utf-8"))
    return Manifest(**data)


def _rng(seed: int, part: str) -> random.Random:
    # One stream per source system, so e.g. the urban grid does not change when the population does.
    return random.Random(f"{seed}:{part}")


def _write_sqlite(path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> None:
    """Build into a temporary file and swap it in: a re-run replaces the database, never appends."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(tmp) as conn:
        for name, (ddl, rows) in tables.items():
            conn.execute(ddl)
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    conn.close()
    tmp.replace(path)


def _write_json(path: Path, records: list[dict]) -> None:
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def generate(home: Path, seed: int = DEFAULT_SEED, persons: int = 5000) -> Manifest:
    """Write gaj/cgj SQLite databases, the mzj CSV drop and the scjgj API records; return the manifest."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    validate_county()
    out = demo_dir(home)
    drop = out / MZJ_DROP
    drop.mkdir(parents=True, exist_ok=True)

    registry = household.build_registry(_rng(seed, "gaj"), persons)
    _write_sqlite(out / GAJ_DB, {
        "persons": (household.PERSONS_DDL, registry.person_rows()),
        "households": (household.HOUSEHOLDS_DDL, registry.household_rows()),
    })

    grid = urban.build_urban(_rng(seed, "cgj"))
    _write_sqlite(out / CGJ_DB, {
        "grids": (urban.GRIDS_DDL, grid["grids"]),
        "facilities": (urban.FACILITIES_DDL, grid["facilities"]),
        "cases": (urban.CASES_DDL, grid["cases"]),
    })

    roll = subsidy.build_roll(_rng(seed, "mzj"), registry.persons)
    roll_path = drop / subsidy.roll_file_name()
    # The demo owns this drop folder: older rolls would be read as extra months.
    for stale in drop.glob("subsidy_roll_*.csv"):
        if stale != roll_path:
            stale.unlink()
    subsidy.write_roll(roll_path, roll)

    records = enterprises.build_enterprises(_rng(seed, "scjgj"), registry.persons)
    _write_json(out / ENTERPRISES_JSON, records)

    manifest = Manifest(
        seed=seed,
        counts={
            "gaj.persons": len(registry.persons),
            "gaj.households": len(registry.households),
            "cgj.grids": len(grid["grids"]),
            "cgj.facilities": len(grid["facilities"]),
            "cgj.cases": len(grid["cases"]),
            "mzj.subsidy_roll": len(roll),
            "scjgj.enterprises": len(records),
        },
        townships=len(TOWNSHIPS),
        township_codes=[t.code for t in TOWNSHIPS],
        files={
            "gaj.household_registry": GAJ_DB,
            "cgj.urban_grid": CGJ_DB,
            "mzj.subsidy_drop": str(MZJ_DROP / subsidy.roll_file_name()),
            "scjgj.enterprise_api": ENTERPRISES_JSON,
        },
    )
    manifest.save(home)
    return manifest


def corrupt_duplicate_ids(home: Path, n: int = 5) -> None:
    """Copy n persons' id_number onto n other persons, so a unique check on id_number must fail downstream.

    The corrupted rows get a later updated_at so an incremental (cursor) load picks them up too.
    """
    path = demo_dir(home) / GAJ_DB
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute("SELECT person_id FROM persons ORDER BY person_id")]
        if n < 1 or 2 * n > len(ids):
            raise ValueError(f"cannot duplicate {n} id numbers among {len(ids)} persons")
        picked = random.Random(f"corrupt:{n}").sample(ids, 2 * n)
        latest = conn.execute("SELECT MAX(updated_at) FROM persons").fetchone()[0]
        later = (datetime.strptime(latest, DATETIME_FORMAT) + timedelta(days=1)).strftime(DATETIME_FORMAT)
        for source, target in zip(picked[:n], picked[n:]):
            conn.execute(
                "UPDATE persons SET id_number = (SELECT id_number FROM persons WHERE person_id = ?), "
                "updated_at = ? WHERE person_id = ?",
                (source, later, target),
            )
    conn.close()
