"""One stage of the county flow in a fresh process, for `python -m bench county`: prints its seconds and peak RSS.

`python -m bench.county_stage STAGE HOME [SCALE]` with STAGE one of generate, next_day, load, build, gate,
catalog. The home's lake carries the state from stage to stage; `build` leaves the nodes it built in
HOME/bench-built.json for `gate`. The seconds are the stage's own: the modules it needs are imported before the
clock starts (reported apart), as one `countyhub run` process imports them once for all stages.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _peak_mb() -> tuple[float, float]:
    """(this process's peak RSS, the largest finished child's: dbt runs in one) in MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def _imports(stage: str) -> None:
    """What the stage's code imports, loaded before the clock starts: one `countyhub run` pays them once."""
    import countyhub.demo
    import countyhub.flow.run

    if stage == "load":
        import countyhub.cli.demo
    if stage == "gate":
        import countyhub.contracts.gate  # noqa: F401


def _run(stage: str, home: Path, scale: str) -> dict[str, Any]:
    from countyhub.core.settings import load_settings
    from countyhub.flow.runtime import Runtime

    rt = Runtime(load_settings(), os.environ)
    built_file = home / "bench-built.json"
    if stage == "generate":
        from countyhub.demo import generate

        manifest = generate(home, scale=scale)
        return {"source_rows": sum(manifest.counts.values())}
    if stage == "next_day":
        from countyhub.demo import next_day

        manifest = next_day(home)
        return {"day": manifest.day}
    if stage == "load":
        from countyhub.cli.demo import demo_api
        from countyhub.flow.run import DepartmentFailure, ingest_all

        failures: list[DepartmentFailure] = []
        with demo_api(rt) as demo:
            loads = ingest_all(demo, failures=failures)
        return {"rows_changed": sum(x.rows_inserted + x.rows_updated + x.rows_deleted for x in loads),
                "rows_read": sum(x.rows_read for x in loads), "failures": [f.cause for f in failures]}
    if stage == "build":
        from countyhub.flow.run import build_models

        built = build_models(rt)
        built_file.write_text(json.dumps(built), encoding="utf-8")
        return {"nodes_built": len(built)}
    if stage == "gate":
        from countyhub.flow.run import gate_and_publish_all

        outcomes = gate_and_publish_all(rt, json.loads(built_file.read_text(encoding="utf-8")))
        return {"gate_seconds": round(sum(o.seconds.get("gate", 0) for o in outcomes), 2),
                "publish_seconds": round(sum(o.seconds.get("publish", 0) for o in outcomes), 2),
                "published": sum(o.published_now for o in outcomes),
                "unchanged": sum(o.status == "unchanged" for o in outcomes),
                "failed": [o.dataset for o in outcomes if not o.gate_passed]}
    if stage == "catalog":
        from countyhub.flow.run import register_catalog

        return {"entries": register_catalog(rt)}
    raise SystemExit(f"unknown stage {stage!r}")


def main(argv: list[str]) -> int:
    stage, home = argv[0], Path(argv[1])
    scale = argv[2] if len(argv) > 2 else "demo"
    os.environ["COUNTYHUB_HOME"] = str(home)
    started = time.perf_counter()
    _imports(stage)
    imported = time.perf_counter()
    detail = _run(stage, home, scale)
    seconds = time.perf_counter() - imported
    own, child = _peak_mb()
    print(json.dumps({"stage": stage, "seconds": round(seconds, 2), "imports": round(imported - started, 2),
                      "rss_mb": round(own), "child_rss_mb": round(child), **detail}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
