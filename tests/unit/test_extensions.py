"""Extension binaries are checked against pip's recorded hash once, and a changed binary is refused."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from countyhub.core.extensions import STAMP, ExtensionError, _verify, extension_config


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_a_binary_that_differs_from_pips_record_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "demo.duckdb_extension"
    binary.write_bytes(b"original bytes")
    expected = _record_hash(b"original bytes")
    _verify(tmp_path, [(binary, "duckdb-extension-demo", expected)])
    assert str(binary) in json.loads((tmp_path / STAMP).read_text())

    binary.write_bytes(b"tampered bytes, longer")  # the stamp no longer vouches for it
    with pytest.raises(ExtensionError, match="duckdb-extension-demo.*force-reinstall"):
        _verify(tmp_path, [(binary, "duckdb-extension-demo", expected)])


def test_an_unchanged_binary_is_not_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "demo.duckdb_extension"
    binary.write_bytes(b"x" * 1000)
    files = [(binary, "duckdb-extension-demo", _record_hash(b"x" * 1000))]
    _verify(tmp_path, files)
    calls = []
    monkeypatch.setattr("countyhub.core.extensions._sha256", lambda path: calls.append(path) or "")
    _verify(tmp_path, files)
    assert calls == []


def test_the_installed_extensions_load_offline_from_the_checked_folder(tmp_path: Path) -> None:
    con = duckdb.connect(config=extension_config(tmp_path / "ext"))
    con.execute("LOAD ducklake; LOAD postgres_scanner")
    loaded = {r[0] for r in con.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"ducklake", "postgres_scanner"} <= loaded
    assert (next((tmp_path / "ext").rglob(STAMP))).exists()
