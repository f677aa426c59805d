"""Backup and restore of a home: a backup taken while another process writes restores to a state that existed
(no partial transaction, an audit log that names nothing the lake lacks); tampered backups, homes in use and
homes of another kind are refused with the file or setting named and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from countyhub.catalog import Catalog
from countyhub.cli.main import app
from countyhub.core.settings import Settings, load_settings
from countyhub.flow.backup import CATALOG, MANIFEST, METADATA, BackupError, backup_home, home_stores
from countyhub.flow.restore import restore_home
from countyhub.lakehouse import Lake
from countyhub.sharing.model import AuditEntry
from tests.fixtures.sharing_fixtures import build_lake, grant, real_sharing, register, write_grant

LEDGER_ROWS = 500  # rows a writer transaction puts in the ledger: enough for a Parquet file, not inlined

# A writer as a load or publish is: one lake transaction across two tables, then its audit entry.
WRITER = textwrap.dedent("""
    import itertools, sys
    from pathlib import Path
    from countyhub.catalog.tables import make_engine
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse import Lake
    from countyhub.sharing.audit import AuditLog
    from countyhub.sharing.model import AuditEntry

    stop, progress, rows = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    settings = load_settings()
    lake, audit = Lake(settings), AuditLog(make_engine(settings.catalog_url))
    for batch in itertools.count(1):
        with lake.writer() as con:
            con.execute("BEGIN")
            con.execute("INSERT INTO lake.shared.ledger SELECT ?, range FROM range(?)", [batch, rows])
            con.execute("INSERT INTO lake.shared.batches VALUES (?, ?)", [batch, rows])
            con.execute("COMMIT")
        audit.append(AuditEntry(action="publish", actor="writer", department="dsj", dataset="shared.ledger",
                                detail={"batch": batch}))
        audit.flush()
        progress.write_text(str(batch))
        if stop.exists():
            break
    audit.close()
""")


def _home(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("COUNTYHUB_HOME", str(tmp_path / name))
    return load_settings()


def _small_home(settings: Settings) -> Lake:
    """Published tables, their catalog entries, a grant and audit entries: every store a backup holds."""
    lake = Lake(settings)
    build_lake(lake, persons=60)
    catalog = Catalog(settings.catalog_url)
    register(catalog)
    sharing = real_sharing(catalog, lake)
    sharing.users.add("li_mzj", "mzj", "analyst")  # (creates the sharing tables the grant is written into)
    write_grant(sharing, grant("shared.resident_profile", "mzj", ("name", "township_code")))
    for n in range(3):
        sharing.audit.append(AuditEntry(action="query", actor="li_mzj", department="mzj",
                                        dataset="shared.resident_profile", rows=n))
    sharing.audit.close()
    return lake


def _wait_for(path: Path, at_least: int, writer: subprocess.Popen) -> int:
    """The writer's last committed batch once it is at least `at_least` (it writes on; the test only waits)."""
    while True:
        done = int(path.read_text() or 0) if path.exists() else 0
        if done >= at_least:
            return done
        assert writer.poll() is None, writer.communicate()
        time.sleep(0.05)


def test_a_backup_taken_while_another_process_writes_restores_a_state_that_existed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _home(tmp_path, "source", monkeypatch)
    lake = Lake(source)
    with lake.writer() as con:
        con.execute("CREATE TABLE lake.shared.ledger (batch INTEGER, n BIGINT)")
        con.execute("CREATE TABLE lake.shared.batches (batch INTEGER, rows INTEGER)")
    stop, progress = tmp_path / "stop", tmp_path / "progress"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop), str(progress), str(LEDGER_ROWS)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(progress, 2, writer)
        manifest = backup_home(lake, tmp_path / "backup")
        backed_up = manifest["shared_rows"]["shared.batches"]
        _wait_for(progress, backed_up + 2, writer)  # the writer went on after the backup: it ran during it
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0, out

    target = _home(tmp_path, "restored", monkeypatch)
    restored = restore_home(tmp_path / "backup", target, Lake(target))
    with Lake(target).reader() as con:
        batches = dict(con.execute("SELECT batch, rows FROM lake.shared.batches").fetchall())
        ledger = dict(con.execute("SELECT batch, count(*) FROM lake.shared.ledger GROUP BY batch").fetchall())
    assert len(batches) == backed_up >= 2 and sorted(batches) == list(range(1, backed_up + 1))
    assert ledger == batches  # each transaction whole in both tables, or not at all
    sharing = real_sharing(Catalog(target.catalog_url), Lake(target))
    assert sharing.audit.verify() == (restored.audit_entries, None)
    audited = {e.detail["batch"] for e in sharing.audit.entries(limit=1000)}
    # An audit entry is appended after its lake commit: a state that existed names no batch the lake lacks.
    assert audited <= set(batches) and len(audited) == restored.audit_entries >= 1


@pytest.fixture
def backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _small_home(_home(tmp_path, "source", monkeypatch))
    result = CliRunner().invoke(app, ["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    return tmp_path / "backup"


def _parquet(backup: Path) -> str:
    return str(next((backup / "lake" / "data").rglob("*.parquet")).relative_to(backup))


@pytest.mark.parametrize("damaged", [METADATA, CATALOG, "a parquet file"])
def test_a_tampered_backup_is_refused_naming_the_file_and_nothing_is_written(
        backup: Path, tmp_path: Path, damaged: str) -> None:
    name = _parquet(backup) if damaged == "a parquet file" else damaged
    with (backup / name).open("r+b") as fh:  # one byte changed, the size kept
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    home = tmp_path / "fresh"
    result = CliRunner().invoke(app, ["restore", str(backup), "--home", str(home)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert f"{backup / name}: checksum does not match the manifest" in " ".join(result.output.split())
    assert not home.exists() or not any(p.is_file() for p in home.rglob("*"))


def test_restore_into_a_home_in_use_is_refused_unless_forced(backup: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    other = _home(tmp_path, "other", monkeypatch)
    with Lake(other).writer() as con:
        con.execute("CREATE TABLE lake.shared.only_here AS SELECT 1 AS x")
    result = CliRunner().invoke(app, ["restore", str(backup), "--home", str(other.home)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{other.home}: not an empty home" in result.output and "--force" in result.output
    with Lake(other).reader() as con:  # untouched
        assert con.execute("SELECT x FROM lake.shared.only_here").fetchall() == [(1,)]
    result = CliRunner().invoke(app, ["restore", str(backup), "--home", str(other.home), "--force"])
    assert result.exit_code == 0, result.output
    with Lake(other).reader() as con:
        shared = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'shared'")
                  .fetchall()}
    assert shared == {"resident_profile", "township_overview", "case_files"}


def test_a_restore_that_does_not_read_back_as_the_manifest_says_is_undone(backup: Path, tmp_path: Path) -> None:
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["shared_rows"]["shared.township_overview"] += 1
    (backup / MANIFEST).write_text(json.dumps(manifest))
    home = tmp_path / "fresh"
    result = CliRunner().invoke(app, ["restore", str(backup), "--home", str(home)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "shared row counts differ from the manifest's for shared.township_overview" in " ".join(
        result.output.split())
    assert not [p for p in home.rglob("*") if p.is_file() and "duckdb_extensions" not in p.parts]


def test_a_missing_manifest_or_a_used_backup_folder_is_a_clear_error(backup: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["restore", str(tmp_path), "--home", str(tmp_path / "fresh")])
    assert result.exit_code == 1 and f"{tmp_path}/manifest.json: missing" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["backup", str(backup)])
    assert result.exit_code == 1 and "not an empty folder" in result.output


@pytest.mark.parametrize(("setting", "value", "said"), [
    ("lake_metadata", "postgres:dbname=lake host=127.0.0.1 password=hunter2", "lake metadata is in PostgreSQL"),
    ("lake_data", "s3://county-lake/data/", "lake data is in object storage (s3://)"),
    ("catalog_url", "postgresql+psycopg://root@127.0.0.1:5432/test", "catalog store is postgresql"),
])
def test_a_home_past_the_embedded_default_is_refused_saying_what_is_supported(
        settings: Settings, setting: str, value: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"COUNTYHUB_{setting.upper()}", value)
    with pytest.raises(BackupError, match="support the embedded default only") as raised:
        home_stores(load_settings())
    assert said in str(raised.value) and "hunter2" not in str(raised.value)
