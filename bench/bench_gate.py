"""Gate benchmark: 15 rules on 1M and 10M rows — our gate vs one hand-written DuckDB query vs GE's pandas path.

`python -m bench gate [--quick]` (--quick: 1M rows only). Each contender runs in a fresh subprocess
that reports its own wall time and peak RSS (ru_maxrss), so one contender's memory never counts
against another. Results: printed table and test-artifacts/bench/gate.json (gate-quick.json with --quick).

All three check the same 15 rules on the same table, including the real GB 11643 / GB 32100 checksums
(see COMPUTES); the planted bad phone numbers make the same warn rule fail in each.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES, QUICK_SIZES = (1_000_000, 10_000_000), (1_000_000,)
ORDER = ("hand_sql", "gate", "ge_pandas")
COMPUTES = {
    "hand_sql": "one DuckDB query: the 15 checks as counts in one scan, lookups as joins, the gate's "
                "vectorized ID/credit-code functions; no type rules, no samples",
    "gate": "countyhub's gate: GE suite from the ODCS contract run inside DuckDB (15 rules + 10 type rules + "
            "column set), masked failing samples, Data Docs; DuckDB memory_limit 1GB, spilling",
    "ge_pandas": "GE pandas: table read into a DataFrame, the 15 rules (checksums: stdnum is_valid once per value "
                 "into a flag column a built-in expectation checks) + 10 dtype rules + column set",
}
OUT = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench" / "gate.json"


def _child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.bench_gate", "--child", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        raise RuntimeError(f"{args}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(argv: list[str]) -> None:
    """In a subprocess: `setup <home> <rows>` or `<contender> <home>`; prints one JSON line."""
    os.environ["COUNTYHUB_HOME"] = argv[1]
    from bench.gate_data import make_table, write_contract
    from countyhub.contracts.odcs import load_contract
    from countyhub.core.settings import load_settings
    from countyhub.lakehouse.lake import Lake

    lake = Lake(load_settings())
    contract = load_contract(write_contract(Path(argv[1]) / "contracts"))
    if argv[0] == "setup":
        make_table(lake, int(argv[2]))
        out: dict = {"rows": int(argv[2])}
    else:
        from bench.gate_contenders import run

        out = run(argv[0], lake, contract)
    out["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


def main(flags: list[str]) -> None:
    sizes = QUICK_SIZES if "--quick" in flags else SIZES
    results = []
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-gate-") as home:
            _child(["setup", home, str(rows)])
            for name in ORDER:
                result = _child([name, home]) | {"contender": name, "rows": rows}
                results.append(result)
                print(f"{rows:>11,} {name:<10} {result['seconds']:>8.2f} s {result['rss_mb']:>8.0f} MB "
                      f"failed={result['failed']}", flush=True)
    _table(results)
    out = OUT.with_name("gate-quick.json") if "--quick" in flags else OUT  # a quick run never replaces the full one
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")


def _table(results: list[dict]) -> None:
    print("\n| rows | hand-written SQL | our gate (GE SQL on DuckDB) | GE pandas | gate / SQL | pandas / gate "
          "| peak RSS SQL / gate / pandas |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rows in sorted({r["rows"] for r in results}):
        by = {r["contender"]: r for r in results if r["rows"] == rows}
        s, g, p = (by[n]["seconds"] for n in ORDER)
        rss = " / ".join(f"{by[n]['rss_mb']:.0f} MB" for n in ORDER)
        print(f"| {rows:,} | {s:.2f} s | {g:.2f} s | {p:.2f} s | {g / s:.2f}× | {p / g:.1f}× | {rss} |")
    sizes = sorted({r["rows"] for r in results})
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        for name in ORDER:
            t = {r["rows"]: r["seconds"] for r in results if r["contender"] == name}
            print(f"scaling {name}: {t[big] / t[small]:.1f}× time for {big // small}× rows")
    for rows in sizes:
        by = {r["contender"]: r for r in results if r["rows"] == rows}
        print(f"{rows:,} rows, of which importing (once per process): "
              + ", ".join(f"{n} {by[n].get('import_s', 0):.2f} s" for n in ORDER))
    for name in ORDER:
        print(f"- {name}: {COMPUTES[name]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main(sys.argv[1:])
