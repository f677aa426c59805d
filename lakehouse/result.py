"""What one load did (LoadResult), and its row in the load log meta.loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from countyhub.lakehouse.meta import LoadRecord

# open: lake attached, meta tables checked, state read. stage: changed rows copied from the source to a
# local table (keyed incremental and snapshot loads). write: the transaction's work (for unstaged loads
# this includes reading the source). commit: DuckLake's commit to its catalog.
PHASES = ("open", "stage", "write", "commit")


@dataclass
class LoadResult:
    """What one load did, for the summary, the catalog and the DAG logs. read = loaded + quarantined."""

    load_id: str
    department: str
    stream: str
    table: str
    rows_read: int
    rows_loaded: int
    bytes_read: int
    started_at: datetime
    finished_at: datetime
    schema: pa.Schema
    mode: str = "replace"
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    schema_changes: list[str] = field(default_factory=list)
    rows_quarantined_before: int = 0  # of rows_quarantined: already in quarantine from an earlier load, not added again
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, see PHASES
    rows_skipped: int = 0  # lines that were not data (title, notes, footer): logged, not read

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def timing(self) -> str:
        """'open 0.07s · stage 0.05s · write 0.12s · commit 0.02s': where the load's time went."""
        return " · ".join(f"{name} {self.phases[name]:.2f}s" for name in PHASES if name in self.phases)

    def record(self) -> LoadRecord:
        """Its success row in meta.loads; the message says how many rows went to quarantine."""
        message = f"{self.rows_quarantined} quarantined" if self.rows_quarantined else ""
        if self.rows_quarantined_before:
            message += f" ({self.rows_quarantined_before} already in quarantine from an earlier load)"
        if self.rows_skipped:
            lines = "line" if self.rows_skipped == 1 else "lines"
            skipped = f"{self.rows_skipped} {lines} kept out of the data (title, notes, footer; see meta.skipped_lines)"
            message = f"{message}; {skipped}" if message else skipped
        return LoadRecord(self.load_id, self.department, self.stream, self.rows_read, self.rows_loaded,
                          self.bytes_read, "success", self.started_at, datetime.now(UTC), message, self.mode,
                          self.rows_quarantined, self.rows_inserted, self.rows_updated, self.rows_deleted,
                          self.rows_skipped)
