"""Prepare the deployment's dbt project under the countyhub home: the repository's project, generated YAML, profile."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from countyhub.contracts.odcs import Contract, load_contracts
from countyhub.core.departments import Department, load_departments
from countyhub.core.settings import Settings
from countyhub.flow.dbt_yaml import LEGACY_MARKER, dump, generated_files
from countyhub.lakehouse.lake import LAKE, S3_KEY_ENV, S3_SECRET, Lake

PROFILE = "countyhub"
# What dbt or an editor leaves in a project folder: never part of the deployment's copy.
_SKIP_DIRS = {"target", "logs", "dbt_packages"}
_SKIP_FILES = {"profiles.yml", ".user.yml"}


@dataclass(frozen=True)
class DbtProject:
    """A prepared project: where dbt reads the project and profile and writes its target and logs."""

    project_dir: Path
    profiles_dir: Path
    target_dir: Path
    log_dir: Path

    def args(self) -> list[str]:
        """The dbt command-line flags that point dbt at this preparation (nothing read from the environment)."""
        return ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.profiles_dir),
                "--target-path", str(self.target_dir), "--log-path", str(self.log_dir)]


def dbt_home(settings: Settings) -> Path:
    return settings.home / "dbt"


def dbt_profile(lake: Lake) -> dict[str, Any]:
    """profiles.yml content: dbt-duckdb building straight into the DuckLake, every value explicit."""
    settings = lake.settings
    output = {
        "type": "duckdb",
        "path": ":memory:",
        # config_options apply at connect time, before the attach needs the ducklake extension.
        "config_options": lake.duckdb_config(),
        "attach": [{"path": f"ducklake:{settings.lake_metadata}", "alias": LAKE, "options": lake.attach_options()}],
        "database": LAKE,
        "schema": "audit",
        # One thread on every catalog. Embedded (SQLite) metadata is single-writer. On a PostgreSQL catalog,
        # DuckLake 1.5.5 under dbt's threads (cursors of one DuckDB creating models at once) broke the lake:
        # "Failed to load DuckLake - could not find schema that corresponds to the view entry ..." in all 3 demo
        # runs with 4 threads, none with 1 (tests/integration/test_flow_on_object_store.py
        # and the Airflow cluster test run this setup).
        "threads": 1,
    }
    if lake.on_object_store:
        # dbt reads and writes the lake's Parquet files itself. Its keys stay out of the file: dbt resolves
        # env_var() from the environment it runs in, the same AWS_* names the lake's own connections resolve.
        key_id, secret = (f"{{{{ env_var('{name}', '') }}}}" for name in S3_KEY_ENV)
        keys = {"key_id": key_id, "secret": secret}
        output["secrets"] = [{"type": "s3", "name": S3_SECRET, **keys, **lake.s3_secret_options()}]
    return {PROFILE: {"target": "lake", "outputs": {"lake": output}}}


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """One preparer at a time per home (several Airflow workers may start a build at once)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Unchanged files are left alone (dbt's partial parsing); changed ones are replaced whole, never half-written."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)  # a dbt already reading the old file keeps reading the old one
    return True


def _project_files(source_dir: Path) -> dict[Path, bytes]:
    """The repository's project, file by file, without dbt's output and without sources older builds generated."""
    files: dict[Path, bytes] = {}
    for path in sorted(source_dir.rglob("*")):
        rel = path.relative_to(source_dir)
        if not path.is_file() or rel.parts[0] in _SKIP_DIRS or rel.name in _SKIP_FILES:
            continue
        data = path.read_bytes()
        if rel.name == "_sources.yml" and data.startswith(LEGACY_MARKER.encode()):
            continue
        files[rel] = data
    return files


def _sync(dest: Path, wanted: dict[Path, bytes]) -> None:
    """Make dest hold exactly the wanted files, touching only those that differ."""
    for rel, data in wanted.items():
        _write_if_changed(dest / rel, data)
    for path in sorted(dest.rglob("*"), reverse=True):  # children before their folders
        rel = path.relative_to(dest)
        if rel.parts[0] in _SKIP_DIRS:
            continue
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def prepare_dbt(source_dir: Path, dbt_dir: Path, profile: dict[str, Any], departments: list[Department],
                contracts: list[Contract]) -> DbtProject:
    """Lay out the project dbt runs: the repository's project plus this deployment's generated files, and a profile.

    The repository is only read. Sources come from the deployment's department files, mart model contracts from
    its ODCS contracts (they overlay the checked-in copies, which a test keeps equal). Idempotent and cheap when
    nothing changed (no file is rewritten), so the build can call it every run; the lock keeps concurrent
    preparers of one home from interleaving.
    """
    wanted = _project_files(source_dir)
    wanted.update({rel: text.encode() for rel, text in generated_files(departments, contracts).items()})
    project = DbtProject(project_dir=dbt_dir / "project", profiles_dir=dbt_dir, target_dir=dbt_dir / "target",
                         log_dir=dbt_dir / "logs")
    with _locked(dbt_dir / ".prepare.lock"):
        _sync(project.project_dir, wanted)
        # The lake's metadata URL may carry a password: the profile is readable by its owner only.
        _write_if_changed(dbt_dir / "profiles.yml", dump(profile).encode(), mode=0o600)
    return project


def prepare_for(lake: Lake) -> DbtProject:
    """prepare_dbt with every argument taken from the lake's deployment settings."""
    settings = lake.settings
    return prepare_dbt(settings.dbt_project_dir, dbt_home(settings), dbt_profile(lake),
                       load_departments(settings.departments_dir), load_contracts(settings.contracts_dir))


def write_profiles(lake: Lake) -> Path:
    """Only the profile (home/dbt/profiles.yml), e.g. to inspect what dbt will be told about the lake."""
    home = dbt_home(lake.settings)
    with _locked(home / ".prepare.lock"):
        _write_if_changed(home / "profiles.yml", dump(dbt_profile(lake)).encode(), mode=0o600)
    return home / "profiles.yml"
