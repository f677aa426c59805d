"""The audit log's "publish" entries: written under the lake's writer lock, and those a crash lost, recovered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from countyhub.lakehouse.lake import Lake
from countyhub.lakehouse.meta_gates import Publication, all_publications
from countyhub.sharing.audit import AuditLog
from countyhub.sharing.model import AuditEntry

PLATFORM = "platform"  # the department of an entry whose dataset no contract names any more


def publish_entry(publication: Publication, actor: str, department: str, **detail: Any) -> AuditEntry:
    """The entry that says a version of shared.<dataset> is served."""
    return AuditEntry(action="publish", actor=actor, department=department, dataset=f"shared.{publication.dataset}",
                      rows=publication.rows, detail={"version": publication.version, **detail})


def recorder(audit: AuditLog, actor: str, department: str, **detail: Any) -> Callable[[Publication], None]:
    """`publish`'s and `rollback`'s on_commit: the entry is committed before the writer lock goes, so a
    reconciliation (which takes that lock) never takes a version whose entry is on its way for a lost one."""
    def record(publication: Publication) -> None:
        audit.wait_written(audit.append(publish_entry(publication, actor, department, **detail)))
    return record


def reconcile(lake: Lake, audit: AuditLog, departments: Mapping[str, str]) -> list[Publication]:
    """Append a "publish" entry marked {"recovered": true} for each version in meta.publications the audit log does
    not record, and return those versions.

    The lake and the audit log are two databases, so a publication and its entry cannot commit together: a process
    killed between the two leaves a served version the log does not show. Every gate starts here, so the log is
    complete again by the next run. `departments`: dataset -> the department its contract names.
    """
    with lake.lock():  # publishers write their entry holding it: one seen here without its entry lost it
        with lake.reader() as con:
            versions = all_publications(con)
        recorded = audit.published_versions()
        missing = [p for p in versions if (f"shared.{p.dataset}", p.version) not in recorded]
        for p in missing:
            restored = {"rollback_to": p.restored_version} if p.restored_version is not None else {}
            audit.append(publish_entry(p, "countyhub", departments.get(p.dataset, PLATFORM), recovered=True,
                                       gate_run=p.gate_run_id, **restored))
        if missing:
            audit.flush()
    return missing
