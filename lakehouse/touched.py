"""Which lake tables commits touched after a snapshot, read from DuckLake's own snapshot log (no data is scanned)."""

from __future__ import annotations

import duckdb

from countyhub.lakehouse.lake import LAKE

# DuckLake's catalog, attached beside the lake under this name (the DuckLake specification's tables).
_CATALOG = f"__ducklake_metadata_{LAKE}"
# Change kinds whose values name a table by id or, for creations, as schema.name; any other kind that names
# something we cannot place makes the answer unknown (None), and callers then look at the data itself.
_BY_ID = ("tables_inserted_into", "tables_deleted_from", "inlined_insert", "inlined_delete", "tables_altered",
          "tables_dropped", "views_dropped", "views_altered", "compacted_table", "merge_adjacent")
_BY_NAME = ("tables_created", "views_created")
_IGNORED = ("schemas_created", "schemas_dropped")


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0]


def touched_since(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> set[str] | None:
    """`schema.table` of every table or view a commit after `snapshot_id` created, wrote, deleted from or altered.

    None when the log holds a change this cannot place (a kind of change DuckLake added later, say): treat every
    table as touched then.
    """
    try:
        rows = con.execute(f"SELECT changes FROM {LAKE}.snapshots() WHERE snapshot_id > ?", [snapshot_id]).fetchall()
        ids, names = set(), set()
        for (changes,) in rows:
            for kind, values in (changes or {}).items():
                if kind in _BY_NAME:
                    names.update(v.replace('"', "") for v in values)
                elif kind in _BY_ID and all(v.isdigit() for v in values):
                    ids.update(int(v) for v in values)
                elif kind not in _IGNORED:
                    return None
        if ids:
            found = con.execute(
                f"SELECT DISTINCT s.schema_name || '.' || t.table_name FROM {_CATALOG}.ducklake_table AS t "
                f"JOIN {_CATALOG}.ducklake_schema AS s USING (schema_id) WHERE t.table_id IN "
                f"(SELECT unnest(?::BIGINT[])) UNION SELECT DISTINCT s.schema_name || '.' || v.view_name "
                f"FROM {_CATALOG}.ducklake_view AS v JOIN {_CATALOG}.ducklake_schema AS s USING (schema_id) "
                "WHERE v.view_id IN (SELECT unnest(?::BIGINT[]))", [sorted(ids), sorted(ids)]).fetchall()
            names.update(r[0] for r in found)
    except duckdb.Error:
        return None  # a catalog this cannot read the same way (another backend, an older layout)
    return names
