"""A killed server loses no answered service call: every 200 a client got is in the audit log after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from countyhub.catalog import Catalog
from countyhub.core.settings import PROJECT_DIR, load_settings
from countyhub.lakehouse import Lake
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.principals import UserStore
from tests.fixtures.servers import free_port
from tests.fixtures.sharing_fixtures import build_lake, register

pytestmark = pytest.mark.integration

SERVICES = """services:
  - name: township_lookup
    title: {zh: 乡镇查询, en: Township lookup}
    kind: lookup
    params:
      - {name: township_code, type: string, column: township_code, role: key, max_length: 12}
    returns: [township_name, residents]
"""


def test_sigkill_after_answers_loses_no_audit_entry(tmp_path: Path) -> None:
    home, contracts = tmp_path / "home", tmp_path / "contracts"
    (contracts / "dsj").mkdir(parents=True)
    (contracts / "dsj" / "township_overview.services.yaml").write_text(SERVICES, encoding="utf-8")
    environ = {"COUNTYHUB_HOME": str(home), "COUNTYHUB_CONTRACTS_DIR": str(contracts)}
    settings = load_settings(environ=environ)
    build_lake(Lake(settings))
    catalog = Catalog(settings.catalog_url)
    register(catalog)
    _, token = UserStore(catalog.engine).add("app_cgj", "cgj", "app")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "countyhub.cli.web:app", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning"], env={**os.environ, **environ}, cwd=PROJECT_DIR)
    try:
        url = f"http://127.0.0.1:{port}/api/services/township_overview/township_lookup"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        answered = 0
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            for code in ["511724001", "511724002", "511724100", "511724200"] * 25:
                response = client.get(url, params={"township_code": code})
                assert response.status_code == 200 and response.json()["found"] is True
                answered += 1
        server.send_signal(signal.SIGKILL)  # no shutdown, no atexit flush
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    audit = AuditLog(catalog.engine)
    entries = [e for e in audit.entries(limit=1000) if e.action == "service_call"]
    assert answered == 100 and len(entries) == answered
    assert audit.verify() == (answered, None)
