"""Every gate run kept in the lake (meta.gate_runs, meta.gate_results): what quality reports and the catalog read."""

from __future__ import annotations

import json
from typing import Any

from countyhub.contracts.gate import GateResult
from countyhub.contracts.odcs import Contract
from countyhub.contracts.publish import Publication
from countyhub.lakehouse.lake import LAKE, Lake

RUNS, RESULTS = f"{LAKE}.meta.gate_runs", f"{LAKE}.meta.gate_results"
_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (run_id VARCHAR, dataset VARCHAR, department VARCHAR,
    contract_version VARCHAR, status VARCHAR, success BOOLEAN, reason VARCHAR, row_count BIGINT, rules INTEGER,
    rules_passed INTEGER, warnings INTEGER, quarantined BIGINT, published_version INTEGER, data_docs VARCHAR,
    started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ)""",
    f"""CREATE TABLE IF NOT EXISTS {RESULTS} (run_id VARCHAR, dataset VARCHAR, rule VARCHAR, kind VARCHAR,
    column_name VARCHAR, severity VARCHAR, expectation VARCHAR, observed VARCHAR, threshold VARCHAR,
    success BOOLEAN, message VARCHAR, samples_json VARCHAR)""",
)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def store_gate_run(lake: Lake, contract: Contract, gate: GateResult, publication: Publication | None) -> None:
    """Append one gate run and its per-rule results (samples already masked) in one lake transaction."""
    passed = sum(r.success for r in gate.results)
    with lake.writer() as con:
        for ddl in _DDL:
            con.execute(ddl)
        con.execute("BEGIN")
        con.execute(f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            gate.run_id, contract.dataset, contract.department, contract.version, gate.status, gate.success,
            gate.reason, gate.row_count, len(gate.results), passed, len(gate.warnings),
            publication.quarantined if publication else None, publication.version if publication else None,
            gate.data_docs, gate.started_at, gate.finished_at])
        con.executemany(f"INSERT INTO {RESULTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            [gate.run_id, contract.dataset, r.rule, r.kind, r.column, r.severity, r.expectation, _text(r.observed),
             r.threshold, r.success, r.message, json.dumps(r.samples, ensure_ascii=False, default=str)]
            for r in gate.results])
        con.execute("COMMIT")
