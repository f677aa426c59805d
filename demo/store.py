"""Where the demo county's source systems live under {home}/demo, and how they are written."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

DEFAULT_SEED = 2016
GAJ_DB = "gaj_household.db"
CGJ_DB = "cgj_urban.db"
RSJ_DB = "rsj_social_insurance.db"
ZJJ_DB = "zjj_housing.db"
JYJ_DB = "jyj_education.db"
WJJ_DB = "wjj_health.db"
ENTERPRISES_JSON = "scjgj_enterprises.json"
MZJ_DROP = Path("drops") / "mzj"
JYJ_DROP = Path("drops") / "jyj"
MANIFEST_JSON = "manifest.json"


def demo_dir(home: Path) -> Path:
    return Path(home) / "demo"


def rng_for(seed: int, part: str) -> random.Random:
    # One stream per source system, so e.g. the urban grid does not change when the population does.
    return random.Random(f"{seed}:{part}")


def write_sqlite(path: Path, tables: dict[str, tuple[str, list[tuple]]]) -> None:
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


def write_json(path: Path, records: list[dict]) -> None:
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
