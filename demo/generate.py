"""Generate the demo county's source systems under {home}/demo, deterministically from one seed."""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from countyhub.demo import departments, elderly, enterprises, household, subsidy, urban
from countyhub.demo.case_steps import with_steps
from countyhub.demo.divisions import TOWNSHIPS, validate_county
from countyhub.demo.education import COHORT
from countyhub.demo.permits import CANCELLATIONS_DDL, PERMITS_DDL, build_cancellations, build_permits
from countyhub.demo.scale import Scale, resolve
from countyhub.demo.store import (
    CGJ_DB,
    DEFAULT_SEED,
    ENTERPRISES_JSON,
    GAJ_DB,
    JYJ_DB,
    JYJ_DROP,
    MANIFEST_JSON,
    MZJ_DROP,
    RSJ_DB,
    WJJ_DB,
    ZJJ_DB,
    BackgroundWrites,
    demo_dir,
    rng_for,
    write_json,
)
from countyhub.demo.timeline import DATETIME_FORMAT


@dataclass
class Manifest:
    """What a generation produced: row counts per `<department>.<stream>`, the townships and the files."""

    seed: int
    counts: dict[str, int]
    townships: int
    township_codes: list[str]
    files: dict[str, str] = field(default_factory=dict)  # source -> path relative to {home}/demo
    day: int = 0  # simulated days next_day() advanced the county since generate()
    scale: str = "demo"

    def save(self, home: Path) -> Path:
        path = demo_dir(home) / MANIFEST_JSON
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                        encoding="utf-8")
        return path


def load_manifest(home: Path) -> Manifest:
    """The manifest of the last generate() into this home."""
    data = json.loads((demo_dir(home) / MANIFEST_JSON).read_text(encoding="utf-8"))
    return Manifest(**data)


def _only_export(drop: Path, name: str) -> Path:
    """The path of this month's export, with the older months' files of the same roll removed: the demo owns the
    drop folder, and an older roll would be read as an extra month."""
    for stale in drop.glob(name.rsplit("_", 1)[0] + "_*.csv"):
        if stale.name != name:
            stale.unlink()
    return drop / name


def generate(home: Path, seed: int = DEFAULT_SEED, persons: int | None = None,
             scale: str | Scale = "demo") -> Manifest:
    """Write every department's source system under {home}/demo (SQLite databases, CSV and Excel drops, the
    scjgj API records) at the given scale (`persons` overrides its population); return the manifest."""
    size = resolve(scale, persons)
    if size.persons < 1:
        raise ValueError("persons must be at least 1")
    validate_county()
    out = demo_dir(home)
    drop = out / MZJ_DROP
    drop.mkdir(parents=True, exist_ok=True)

    with BackgroundWrites() as writes:
        registry = household.build_registry(rng_for(seed, "gaj"), size.persons)
        permits = build_permits(rng_for(seed, "gaj.permits"), size.persons, COHORT)
        cancellations = build_cancellations(rng_for(seed, "gaj.cancellations"), registry.persons)
        writes.write(out / GAJ_DB, {
            "persons": (household.PERSONS_DDL, registry.person_rows()),
            "households": (household.HOUSEHOLDS_DDL, registry.household_rows()),
            "residence_permits": (PERMITS_DDL, permits.rows),
            "person_cancellations": (CANCELLATIONS_DDL, cancellations),
        })

        if size.grids is None:
            grid = urban.build_urban(rng_for(seed, "cgj"))
        else:
            grid = urban.build_urban_county(rng_for(seed, "cgj"), size.grids, size.facilities or 0, size.cases or 0)
        cases = with_steps(rng_for(seed, "cgj.cases"), grid["cases"])
        writes.write(out / CGJ_DB, {
            "grids": (urban.GRIDS_DDL, grid["grids"]),
            "facilities": (urban.FACILITIES_DDL, grid["facilities"]),
            "cases": (urban.CASES_DDL, cases),
        })

        roll = subsidy.build_roll(rng_for(seed, "mzj"), registry.persons)
        subsidy.write_roll(_only_export(drop, subsidy.roll_file_name()), roll)
        allowances = elderly.build_allowances(rng_for(seed, "mzj.elderly"), registry.persons)
        elderly.write_allowances(_only_export(drop, elderly.file_name()), allowances)

        records = enterprises.build_enterprises(rng_for(seed, "scjgj"), registry.persons, size.persons_per_enterprise)
        write_json(out / ENTERPRISES_JSON, records)

        counts = {
            "gaj.persons": len(registry.persons),
            "gaj.households": len(registry.households),
            "gaj.residence_permits": len(permits.rows),
            "gaj.person_cancellations": len(cancellations),
            "cgj.grids": len(grid["grids"]),
            "cgj.facilities": len(grid["facilities"]),
            "cgj.cases": len(cases),
            "mzj.subsidy_roll": len(roll),
            "mzj.elderly_allowances": len(allowances),
            "scjgj.enterprises": len(records),
        }
        counts |= departments.write_rsj_zjj(out, seed, registry, permits, records, writes.write)
        counts |= departments.write_jyj_wjj(out, seed, registry, permits, writes.write)
    manifest = Manifest(
        seed=seed,
        counts=counts,
        townships=len(TOWNSHIPS),
        township_codes=[t.code for t in TOWNSHIPS],
        files={
            "gaj.household_registry": GAJ_DB,
            "cgj.urban_grid": CGJ_DB,
            "mzj.subsidy_drop": str(MZJ_DROP / subsidy.roll_file_name()),
            "mzj.elderly_allowance": str(MZJ_DROP / elderly.file_name()),
            "scjgj.enterprise_api": ENTERPRISES_JSON,
            "rsj.social_insurance": RSJ_DB,
            "zjj.housing": ZJJ_DB,
            "jyj.school_registry": JYJ_DB,
            "jyj.enrollment_drop": str(JYJ_DROP),
            "wjj.health_records": WJJ_DB,
        },
        scale=size.name,
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
