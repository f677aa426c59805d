"""Run one benchmark by name, or all: `python -m bench [connectors|gate|catalog|sharing|services|faults] [--quick]`.

Exits 1 if a benchmark reports a violation (its main returns non-zero), after running the rest."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    wanted = [a for a in argv if not a.startswith("-")]
    flags = [a for a in argv if a.startswith("-")]
    if "-h" in flags or "--help" in flags:
        print(__doc__, "\navailable:", ", ".join(n.removeprefix("bench_") for n in names))
        return 0
    failed = []
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        if importlib.import_module(f"bench.{name}").main(flags):  # most return None: nothing to violate
            failed.append(name.removeprefix("bench_"))
    if failed:
        print(f"bench: {', '.join(failed)} reported a violation", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
