"""The package's shape: one import namespace, settings and environment read only at the edges, layers kept."""

from __future__ import annotations

import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from countyhub.core.settings import PROJECT_DIR

STAGES = ("countyhub/core", "countyhub/flow", "connectors", "lakehouse", "contracts", "sharing", "catalog", "demo")
# Reading configuration: the environment (outside handing it to a child process) or the settings file.
CONFIG_READ = re.compile(r"os\.(environ\s*(\.get|\[|\.setdefault|\.pop|\.update)|getenv|putenv)|\bload_settings\(")
# Where reading them is the job: the settings loader itself, and the one module that resolves secret names.
ALLOWED = {"countyhub/core/settings.py", "countyhub/core/secrets.py"}


def _stage_files() -> list[Path]:
    return sorted(p for stage in STAGES for p in (PROJECT_DIR / stage).rglob("*.py"))


def _code_lines(path: Path) -> dict[int, str]:
    """Each line's code with strings and comments left out (a snippet shown to users is text, not a read)."""
    lines: dict[int, str] = {}
    with path.open("rb") as fh:
        for token in tokenize.tokenize(fh.readline):
            if token.type in (tokenize.STRING, tokenize.COMMENT, tokenize.ENCODING, tokenize.NEWLINE, tokenize.NL):
                continue
            lines[token.start[0]] = lines.get(token.start[0], "") + token.string
    return lines


def test_no_stage_reads_settings_or_the_environment() -> None:
    offenders = []
    for path in _stage_files():
        rel = path.relative_to(PROJECT_DIR).as_posix()
        if rel in ALLOWED:
            continue
        for number, code in _code_lines(path).items():
            if CONFIG_READ.search(code):
                offenders.append(f"{rel}:{number}: {code}")
    assert not offenders, "configuration read outside the CLI/DAG/web edge:\n" + "\n".join(offenders)


def test_the_check_finds_a_read_where_there_is_one() -> None:
    """The pattern above is what the check stands on: it must match the ways code reads its configuration."""
    for line in ('x = os.environ.get("A")', 'os.environ["A"] = b', "os.getenv('A')", "s = load_settings()",
                 'os.environ.setdefault("COUNTYHUB_HOME", h)'):
        assert CONFIG_READ.search(line), line
    assert not CONFIG_READ.search('env={**os.environ, "NO_COLOR": "1"}')


@pytest.mark.parametrize("name", ["catalog", "contracts", "connectors", "lakehouse", "sharing", "demo"])
def test_stage_folders_are_not_top_level_import_names(name: str, tmp_path: Path) -> None:
    """Installed, the stages are countyhub.<stage> only: nothing shadows (or is shadowed by) a PyPI `catalog`."""
    probe = f"import importlib.util, sys; print(importlib.util.find_spec({name!r}) is None, " \
            f"importlib.util.find_spec('countyhub.{name}').origin, {str(PROJECT_DIR)!r} in sys.path)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    missing, origin, root_on_path = done.stdout.split()
    assert missing == "True" and root_on_path == "False"
    assert Path(origin) == PROJECT_DIR / name / "__init__.py"
