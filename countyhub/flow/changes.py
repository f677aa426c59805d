"""What changed since the last complete build: the raw streams (meta.loads) and the dbt project's files.

A build that finished is remembered as *pending* (its manifest, the project's digest, when it started); the gate
and publish step that follows makes it the *last build*. A run that dies in between never moves it, so the next
run rebuilds everything that changed since the last build that went all the way through.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from countyhub.core.settings import Settings
from countyhub.flow.dbt_prep import DbtProject, dbt_home
from countyhub.lakehouse import meta
from countyhub.lakehouse.lake import LAKE, Lake

_BUILD_JSON = "build.json"
_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class LastBuild:
    """A build whose datasets were gated and published: what it saw, and dbt's manifest of it (`--state`)."""

    state_dir: Path
    started_at: datetime
    project_digest: str

    @property
    def manifest(self) -> Path:
        return self.state_dir / _MANIFEST


def _state_dir(settings: Settings, pending: bool = False) -> Path:
    return dbt_home(settings) / ("state-pending" if pending else "state")


def project_digest(project: DbtProject) -> str:
    """One digest of every file dbt reads: models, seeds, macros, snapshots, generated YAML and the profile."""
    digest = hashlib.sha256()
    files = sorted(p for p in project.project_dir.rglob("*") if p.is_file())
    for path in [*files, project.profiles_dir / "profiles.yml"]:
        if path.is_file():
            digest.update(str(path.relative_to(project.profiles_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_build(settings: Settings, pending: bool = False) -> LastBuild | None:
    """The last complete build (or the pending one), None when there is none or its record is unreadable."""
    folder = _state_dir(settings, pending)
    try:
        record = json.loads((folder / _BUILD_JSON).read_text(encoding="utf-8"))
        build = LastBuild(folder, datetime.fromisoformat(record["started_at"]), record["project_digest"])
    except (OSError, ValueError, KeyError):
        return None
    return build if build.manifest.is_file() else None


def remember_pending(settings: Settings, project: DbtProject, started_at: datetime, digest: str) -> None:
    """Keep this build's manifest until its datasets are gated and published (then `promote_pending`)."""
    folder = _state_dir(settings, pending=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(project.target_dir / _MANIFEST, folder / _MANIFEST)
    (folder / _BUILD_JSON).write_text(json.dumps({"started_at": started_at.isoformat(), "project_digest": digest}),
                                      encoding="utf-8")


def discard_pending(settings: Settings) -> None:
    """Drop a pending build a dead run left: a new build starts from the last complete one."""
    shutil.rmtree(_state_dir(settings, pending=True), ignore_errors=True)


def promote_pending(settings: Settings) -> bool:
    """The pending build becomes the last build (its datasets went through gate and publish)."""
    pending, current = _state_dir(settings, pending=True), _state_dir(settings)
    if read_build(settings, pending=True) is None:
        return False
    old = current.with_name("state-old")
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        current.rename(old)
    pending.rename(current)
    shutil.rmtree(old, ignore_errors=True)
    return True


def forget_builds(settings: Settings) -> None:
    """The next build rebuilds everything (a build failed: what it left in the lake is not known)."""
    discard_pending(settings)
    shutil.rmtree(_state_dir(settings), ignore_errors=True)


_CHANGED = ("(coalesce(rows_inserted, 0) + coalesce(rows_updated, 0) + coalesce(rows_deleted, 0) > 0 "
            "OR mode IS NULL OR mode = 'replace')")


def changed_streams(lake: Lake, since: datetime, changed: bool = True) -> list[str]:
    """`raw_<department>.<stream>` of every stream a committed load changed after `since`, sorted (with
    `changed=False`: every stream a load committed after `since`, whether it changed anything or not).

    A load changed its table when it inserted, updated or deleted a row, or replaced the table whole.
    """
    with lake.reader() as con:
        columns = meta.select_list(con, "loads", ["department", "stream"])
        if columns is None:
            return []
        rows = con.execute(
            f"SELECT DISTINCT department, stream FROM {meta.table('loads')} WHERE status = 'success' "
            f"AND finished_at > ?{' AND ' + _CHANGED if changed else ''}", [since]).fetchall()
    return sorted(f"raw_{department}.{stream}" for department, stream in rows)


@dataclass(frozen=True)
class BuildPlan:
    """What `dbt build` must do: everything (select None), the nodes downstream of what changed, or nothing."""

    select: str | None
    state: Path | None  # --state for `state:modified+`
    why: str
    nothing: bool = False
    # dbt unit tests run on fixed inputs: their verdict changes only when the project's files do
    unit_tests: bool = True


def plan_build(settings: Settings, lake: Lake, digest: str) -> BuildPlan:
    """Rebuild only what is downstream of a raw stream that changed, or of a model/seed/macro that changed."""
    last = read_build(settings)
    if last is None:
        return BuildPlan(None, None, "no complete build to compare with: everything")
    missing = missing_relations(lake, last.manifest)
    if missing:
        return BuildPlan(None, None, f"{len(missing)} built tables are missing from the lake ({missing[0]}, ...): "
                         "everything")
    streams = changed_streams(lake, last.started_at)
    parts = [f"source:{stream}+" for stream in streams]
    if digest != last.project_digest:
        parts.append("state:modified+")
    if not parts:
        return BuildPlan(None, None, "no raw stream and no model changed since the last build", nothing=True)
    why = f"{len(streams)} raw streams changed" + (", the dbt project changed" if digest != last.project_digest
                                                   else " (unit tests skipped: the project did not change)")
    modified = digest != last.project_digest
    return BuildPlan(" ".join(parts), last.state_dir if modified else None, why, unit_tests=modified)


def missing_relations(lake: Lake, manifest: Path) -> list[str]:
    """Tables and views the build's manifest says it made that the lake does not have (a reset lake)."""
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    wanted = {(n["schema"], n["alias"]) for n in nodes.values()
              if n.get("resource_type") in ("model", "seed", "snapshot")
              and n.get("config", {}).get("materialized") != "ephemeral" and n.get("config", {}).get("enabled", True)}
    with lake.reader() as con:
        have = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? UNION "
                               "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ?",
                               [LAKE, LAKE]).fetchall())
    return sorted(f"{schema}.{name}" for schema, name in wanted - have)


def downstream_models(manifest: Path, departments: set[str]) -> set[str]:
    """Names of the models built, directly or not, from the raw sources of `departments`."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    children, names = data.get("child_map", {}), {}
    for uid, node in data.get("nodes", {}).items():
        names[uid] = node.get("name")
    todo = [uid for uid, source in data.get("sources", {}).items()
            if source.get("source_name", "").removeprefix("raw_") in departments]
    seen: set[str] = set()
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return {names[uid] for uid in seen if uid in names}
