"""Column-level lineage in the catalog store, and "what breaks if this column changes" (impact) over it."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.engine import Engine

from countyhub.catalog import tables as t


@dataclass(frozen=True)
class ColumnEdge:
    """`dataset.column` is computed from `upstream_dataset.upstream_column` (identity: copied unchanged)."""

    dataset: str
    column: str
    upstream_dataset: str
    upstream_column: str
    transform: str = "derived"


class LineageStore:
    """Mixin of Catalog: column edges replaced per dataset, read per dataset, walked downstream for impact."""

    engine: Engine

    def _changed(self, dataset: str, what: str) -> None:  # implemented by Catalog
        raise NotImplementedError

    def set_column_lineage(self, edges: list[ColumnEdge], datasets: set[str] | None = None) -> int:
        """Replace the column edges of every dataset in `datasets` (default: those the edges describe)."""
        targets = set(datasets or ()) | {e.dataset for e in edges}
        c = t.column_lineage.c
        with self.engine.begin() as con:
            if targets:
                con.execute(delete(t.column_lineage).where(c.dataset.in_(sorted(targets))))
            if edges:
                con.execute(insert(t.column_lineage), [asdict(e) for e in dict.fromkeys(edges)])
        for name in sorted(targets):
            self._changed(name, "lineage")
        return len(set(edges))

    def column_lineage(self, dataset: str) -> dict[str, list[dict[str, Any]]]:
        """Edges into this dataset's columns (upstream) and out of them (downstream)."""
        c = t.column_lineage.c
        cols = (c.dataset, c.column, c.upstream_dataset, c.upstream_column, c.transform)
        with self.engine.connect() as con:
            rows = con.execute(select(*cols).where(or_(c.dataset == dataset, c.upstream_dataset == dataset))
                               .order_by(c.dataset, c.column, c.upstream_dataset, c.upstream_column)).all()
        edges = [dict(r._mapping) for r in rows]
        return {"upstream": [e for e in edges if e["dataset"] == dataset],
                "downstream": [e for e in edges if e["upstream_dataset"] == dataset]}

    def impact(self, dataset: str, column: str | None = None, max_depth: int = 20) -> dict[str, Any]:
        """Every downstream column computed (transitively) from `dataset.column` (all its columns if None),
        plus downstream datasets known only at table level, whose columns cannot be told apart."""
        c = t.column_lineage.c
        with self.engine.connect() as con:
            edges = con.execute(select(c.dataset, c.column, c.upstream_dataset, c.upstream_column)).all()
            ups = {r.name: json.loads(r.entry_json).get("upstream", [])
                   for r in con.execute(select(t.datasets.c.name, t.datasets.c.entry_json))}
        out_edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for e in edges:
            out_edges.setdefault((e.upstream_dataset, e.upstream_column), []).append((e.dataset, e.column))
        by_dataset: dict[str, list[tuple[str, str]]] = {}
        for key in out_edges:
            by_dataset.setdefault(key[0], []).append(key)
        start = [(dataset, column)] if column else by_dataset.get(dataset, [])
        seen: dict[tuple[str, str], int] = {}
        queue = deque((s, 0) for s in start)
        while queue:
            node, depth = queue.popleft()
            # Reaching a model's rows ("*": a join key or filter changed) affects every column it passes on.
            sources = by_dataset.get(node[0], []) if node[1] == "*" else [node]
            for src in sources:
                for nxt in out_edges.get(src, []):
                    if nxt not in seen and depth < max_depth:
                        seen[nxt] = depth + 1
                        queue.append((nxt, depth + 1))
        columns = [{"dataset": d, "column": col, "depth": n} for (d, col), n in
                   sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))]
        affected = {d for d, _ in seen}
        # A downstream dataset with column edges that do not reach here is known safe; one without any is unknown.
        has_columns = {e.dataset for e in edges}
        reach = self._table_downstream(ups, affected | {dataset})
        table_level = sorted(n for n in reach - affected - {dataset} if n not in has_columns)
        return {"dataset": dataset, "column": column, "columns": columns,
                "datasets": sorted(affected), "table_level_only": table_level}

    @staticmethod
    def _table_downstream(ups: dict[str, list[str]], roots: set[str]) -> set[str]:
        downs: dict[str, set[str]] = {}
        for name, us in ups.items():
            for u in us:
                downs.setdefault(u, set()).add(name)
        seen, stack = set(), list(roots)
        while stack:
            for nxt in downs.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen
