"""Every gate run kept in the lake (meta.gate_runs, meta.gate_results): what quality reports and the catalog read."""

from __future__ import annotations

import json
from typing import Any

from countyhub.contracts.gate import GateResult
from countyhub.contracts.odcs import Contract
from countyhub.contracts.publish import Publication
from countyhub.lakehouse.lake import Lake
from countyhub.lakehouse.meta_gates import GateRuleResult, GateRun, write_gate_run


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def store_gate_run(lake: Lake, contract: Contract, gate: GateResult, publication: Publication | None) -> None:
    """Append one gate run and its per-rule results (samples already masked) in one lake transaction."""
    run = GateRun(gate.run_id, contract.dataset, contract.department, contract.version, gate.status, gate.success,
                  gate.reason, gate.row_count, len(gate.results), sum(r.success for r in gate.results),
                  len(gate.warnings), publication.quarantined if publication else None,
                  publication.version if publication else None, gate.data_docs, gate.started_at, gate.finished_at)
    results = [GateRuleResult(gate.run_id, contract.dataset, r.rule, r.kind, r.column, r.severity, r.expectation,
                              _text(r.observed), r.threshold, r.success, r.message,
                              json.dumps(r.samples, ensure_ascii=False, default=str)) for r in gate.results]
    with lake.writer() as con:
        con.execute("BEGIN")
        write_gate_run(con, run, results)
        con.execute("COMMIT")
