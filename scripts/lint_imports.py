"""Check the layer contract (import-linter) and that no two modules import each other, on the installed namespace."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def namespace_view(target: Path) -> Path:
    """Lay the stage folders out as `countyhub.<stage>` with symlinks, as pyproject's package-dir installs them.

    grimp (import-linter's graph) walks one folder per top-level package, and the stages live beside
    `countyhub/`, not in it; the view gives it the tree the installed distribution has.
    """
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = target / "countyhub"
    package.mkdir()
    for entry in (ROOT / "countyhub").iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in mapping.items():
        if name != "countyhub":
            (package / name.removeprefix("countyhub.")).symlink_to(ROOT / folder)
    return target


def module_cycles(graph: object) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's strongly connected parts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):  # type: ignore[attr-defined]
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):  # type: ignore[attr-defined]
        if module not in index:
            visit(module)
    return cycles


def main() -> int:
    sys.setrecursionlimit(10_000)
    with tempfile.TemporaryDirectory() as tmp:
        view = str(namespace_view(Path(tmp)))
        # A child process, so that `countyhub` resolves to the view and not to the editable install.
        env = {**os.environ, "PYTHONPATH": view}
        status = subprocess.call([str(Path(sys.executable).parent / "lint-imports"), "--no-cache", str(ROOT / "pyproject.toml")],
                                 env=env, cwd=tmp)
        sys.path.insert(0, view)
        import grimp

        graph = grimp.build_graph("countyhub", cache_dir=None, exclude_type_checking_imports=True)
        for package in [m for m in graph.modules if graph.find_children(m)]:
            for child in graph.find_children(package):
                graph.remove_import(importer=package, imported=child)
        cycles = module_cycles(graph)
    for group in cycles:
        print(f"circular imports between modules: {' <-> '.join(group)}")
    if not cycles:
        print(f"No circular imports between the {len(graph.modules)} modules.")
    return 1 if status or cycles else 0


if __name__ == "__main__":
    raise SystemExit(main())
