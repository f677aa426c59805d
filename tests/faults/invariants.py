"""The fault trials' invariants, read with code of their own: sqlite3 at the source, a bare DuckDB on the lake.

Nothing here calls countyhub's load, gate or publish code: a bug there must not hide itself from its own check.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from countyhub.core.extensions import extension_config
from tests.faults.county import TWO_SQLITE, Layout, source_db

Rows = frozenset[tuple[int, str]]


@dataclass(frozen=True)
class LakeState:
    """What the lake holds: raw rows per department, shared rows and the served version per dataset."""

    raw: dict[str, list[tuple[int, str]]]
    shared: dict[str, list[tuple[int, str]]]
    version: dict[str, int]  # the newest version in meta.publications (0: never published)
    version_rows: dict[str, int]  # the rows that version says it published
    matches_version: dict[str, bool]  # shared.<dataset> equals the table as of that version's snapshot
    versions: dict[str, list[int]]  # every version in meta.publications, per dataset, in order


def read_lake(home: Path, metadata: str | None = None, layout: Layout = TWO_SQLITE) -> LakeState:
    """Attach the lake read-only in a fresh DuckDB and read every table the invariants need."""
    metadata = metadata or f"sqlite:{home / 'lake' / 'metadata.sqlite'}"
    with closing(duckdb.connect(config=extension_config(home / "duckdb_extensions"))) as con:
        con.execute(f"ATTACH 'ducklake:{metadata}' AS l (DATA_PATH '{home / 'lake' / 'data'}/', READ_ONLY)")
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'l'").fetchall()}
        raw, shared, version, version_rows, matches = {}, {}, {}, {}, {}
        for code, (stream, key) in layout.departments.items():
            name = f"raw_{code}.{stream}"
            raw[code] = con.execute(f"SELECT {key}, label FROM l.{name}").fetchall() if name in tables else []
        versions: dict[str, list[int]] = {d: [] for d in layout.datasets}
        for d, v in con.execute("SELECT dataset, version FROM l.meta.publications ORDER BY dataset, version"
                                ).fetchall() if "meta.publications" in tables else []:
            versions.setdefault(d, []).append(v)
        # A version's snapshot id, corrected where another commit took the one expected (meta_gates.set_snapshot).
        snapshot = ("coalesce((SELECT max(c.snapshot_id) FROM l.meta.publication_snapshots c WHERE c.dataset = "
                    "p.dataset AND c.version = p.version), p.snapshot_id)"
                    if "meta.publication_snapshots" in tables else "p.snapshot_id")
        published = {d: (v, s, r) for d, v, s, r in con.execute(
            f"SELECT dataset, version, {snapshot}, rows FROM l.meta.publications p WHERE version = "
            "(SELECT max(version) FROM l.meta.publications q WHERE q.dataset = p.dataset)").fetchall()
        } if "meta.publications" in tables else {}
        for dataset, (_, _, key) in layout.datasets.items():
            name = f"shared.{dataset}"
            shared[dataset] = con.execute(f"SELECT {key}, label FROM l.{name}").fetchall() if name in tables else []
            v, snapshot, rows = published.get(dataset, (0, None, 0))
            version[dataset], version_rows[dataset] = v, rows
            matches[dataset] = snapshot is None or sorted(shared[dataset]) == sorted(con.execute(
                f"SELECT {key}, label FROM l.{name} AT (VERSION => {int(snapshot)})").fetchall())
    return LakeState(raw, shared, version, version_rows, matches, versions)


def read_source(home: Path, layout: Layout = TWO_SQLITE) -> dict[str, list[tuple[int, str]]]:
    """Every department system's rows, straight from its SQLite file (a server source mirrors it exactly)."""
    import sqlite3

    out = {}
    for code, (stream, key) in layout.departments.items():
        with closing(sqlite3.connect(source_db(home, code))) as con:
            out[code] = con.execute(f"SELECT {key}, label FROM {stream}").fetchall()
    return out


@dataclass
class Verdict:
    """One trial's counts: rows lost, rows doubled, partial publishes seen, and whether the next run recovered."""

    lost: int = 0
    doubled: int = 0
    partial: int = 0
    recovered: bool = True
    unaudited: int = 0  # published versions without exactly one "publish" entry in the audit log
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.partial or self.unaudited) and self.recovered


def _doubled(rows: list[tuple[int, str]]) -> int:
    return len(rows) - len({r[0] for r in rows})


def judge_fault(before: LakeState, source: dict[str, list], after: LakeState, verdict: Verdict,
                departments: tuple[str, ...] | None = None, layout: Layout = TWO_SQLITE) -> None:
    """Right after the fault: each table holds all of the old rows or all of the new, never a mix, never twice;
    shared serves exactly its newest version, and a dataset whose version did not move still serves the old rows."""
    for code in departments or layout.departments:
        rows, old, new = frozenset(after.raw[code]), frozenset(before.raw[code]), frozenset(source[code])
        verdict.doubled += _doubled(after.raw[code])
        verdict.lost += len({k for k, _ in old} - {k for k, _ in rows})
        if rows not in (old, new):
            verdict.partial += 1
            verdict.notes.append(f"raw_{code}: {len(rows)} rows, neither the {len(old)} before nor the {len(new)} new")
    for dataset, versions in after.versions.items():
        if len(set(versions)) != len(versions):
            verdict.partial += 1
            verdict.notes.append(f"meta.publications numbers two versions of {dataset} alike: {versions}")
    for dataset, (code, _, _) in layout.datasets.items():
        rows, old = after.shared[dataset], frozenset(before.shared[dataset])
        verdict.doubled += _doubled(rows)
        verdict.lost += len({k for k, _ in old} - {k for k, _ in rows})
        moved = after.version[dataset] != before.version[dataset]
        if not after.matches_version[dataset] or after.version_rows[dataset] != len(rows) or (
                not moved and frozenset(rows) != old) or (moved and frozenset(rows) != frozenset(after.raw[code])):
            verdict.partial += 1
            verdict.notes.append(f"shared.{dataset}: {len(rows)} rows served, version {after.version[dataset]} "
                                 f"says {after.version_rows[dataset]} (before: v{before.version[dataset]})")


def judge_recovery(before: LakeState, source: dict[str, list], after: LakeState, verdict: Verdict,
                   departments: tuple[str, ...] | None = None, published: bool = True,
                   layout: Layout = TWO_SQLITE) -> None:
    """After the next, unfaulted run: every source row is in raw (and, if it `published`, in shared) exactly once,
    as a new version."""
    departments = departments or tuple(layout.departments)
    for code in departments:
        verdict.doubled += _doubled(after.raw[code])
        missing = {k for k, _ in source[code]} - {k for k, _ in after.raw[code]}
        verdict.lost += len(missing)
        if frozenset(after.raw[code]) != frozenset(source[code]):
            verdict.recovered = False
            verdict.notes.append(f"raw_{code} differs from its source after the recovery run")
    for dataset, (code, _, _) in layout.datasets.items():
        if code not in departments or not published:
            continue
        rows = after.shared[dataset]
        verdict.doubled += _doubled(rows)
        verdict.lost += len({k for k, _ in source[code]} - {k for k, _ in rows})
        if frozenset(rows) != frozenset(source[code]) or not after.matches_version[dataset] or (
                frozenset(source[code]) != frozenset(before.shared[dataset])
                and after.version[dataset] <= before.version[dataset]):
            verdict.recovered = False
            verdict.notes.append(f"shared.{dataset} is not the source's rows as a new version after the recovery run")


def publish_entries(home: Path) -> dict[tuple[str, int], int]:
    """{(shared.<dataset>, version): how many "publish" entries} in the audit log, read with sqlite3."""
    import json
    import sqlite3

    counts: dict[tuple[str, int], int] = {}
    with closing(sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)) as con:
        for dataset, body in con.execute("SELECT dataset, entry_json FROM sharing_audit_log WHERE action = 'publish'"):
            key = (dataset, json.loads(body).get("detail", {}).get("version"))
            counts[key] = counts.get(key, 0) + 1
    return counts


def judge_audit(home: Path, after: LakeState, verdict: Verdict) -> None:
    """After the recovery run: every version the lake serves or served has exactly one "publish" audit entry."""
    entries = publish_entries(home)
    for dataset, versions in after.versions.items():
        for version in versions:
            seen = entries.get((f"shared.{dataset}", version), 0)
            if seen != 1:
                verdict.unaudited += 1
                verdict.notes.append(f"shared.{dataset} v{version}: {seen} publish entries in the audit log")
