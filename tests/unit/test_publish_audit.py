"""The audit log's publish entries: a version whose entry a crash lost gets one at the next gate, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from countyhub.flow.publish_audit import reconcile, recorder
from countyhub.flow.runtime import Runtime
from countyhub.lakehouse import meta_gates
from countyhub.lakehouse.meta_gates import Publication


def _publish(runtime: Runtime, version: int, **record: object) -> Publication:
    with runtime.lake.writer() as con:
        meta_gates.write_publication(con, {"dataset": "roll", "version": version, "snapshot_id": version, "rows": 3,
                                           "published_at": datetime.now(UTC), "gate_run_id": f"g{version}", **record})
    return Publication("roll", version, version, 3, datetime.now(UTC), f"g{version}")


def test_a_version_without_its_entry_gets_one_marked_recovered_once(runtime: Runtime) -> None:
    audit = runtime.sharing.audit
    recorder(audit, "countyhub", "aaa", gate_run="g1")(_publish(runtime, 1))  # written with its version
    _publish(runtime, 2)  # the process died before its entry was written
    _publish(runtime, 3, restored_version=1)  # a rollback that died the same way

    assert [p.version for p in reconcile(runtime.lake, audit, {"roll": "aaa"})] == [2, 3]
    assert reconcile(runtime.lake, audit, {"roll": "aaa"}) == []
    entries = {e.detail["version"]: e for e in audit.entries(dataset="shared.roll")}
    assert sorted(entries) == [1, 2, 3]
    assert "recovered" not in entries[1].detail
    assert entries[2].detail == {"version": 2, "recovered": True, "gate_run": "g2"}
    assert entries[3].detail["rollback_to"] == 1 and entries[3].department == "aaa"
    assert audit.verify() == (3, None)
