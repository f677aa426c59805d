"""How a `countyhub` command ends on an error: one `error: …` line, a bug line for the unexpected, tracebacks on --debug."""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from countyhub.cli.common import console
from countyhub.core.masking import mask_text

INTERRUPTED = 130  # the shell's code for a command stopped by SIGINT (128 + 2)
_MAX = 500  # characters of one error line; dbt's or a driver's message can run to pages

# Errors a user can cause and fix (a bad file, an unreachable source, a failed build): their message is the
# answer. Named by module so that checking never imports a stage: an error of a module not yet imported cannot
# have been raised.
_EXPECTED = {
    "countyhub.connectors.errors": ("ConnectorError",),
    "countyhub.core.departments": ("DepartmentFileError",),
    "countyhub.core.settings": ("SettingsError",),
    "countyhub.core.extensions": ("ExtensionError",),
    "countyhub.lakehouse.lake": ("LakeError",),
    "countyhub.lakehouse.drift": ("SchemaDriftError",),
    "countyhub.contracts.odcs": ("ContractError",),
    "countyhub.contracts.publish": ("PublishError",),
    "countyhub.flow.build": ("DbtBuildError",),
    "countyhub.flow.backup": ("BackupError",),
    "countyhub.sharing.model": ("SharingError",),
    "countyhub.sharing.service_spec": ("ServiceFileError",),
    "countyhub.sharing.audit": ("AuditError",),
    "countyhub.catalog.client": ("QueryError",),
}
_FILE_ERRORS = {module: names for module, names in _EXPECTED.items()
                if names[0] in ("DepartmentFileError", "ContractError", "ServiceFileError")}
# Connection-level failures of the libraries the stages talk through: a server that is down or refuses us.
_UNREACHABLE = {
    "sqlalchemy.exc": ("OperationalError", "InterfaceError"),
    "httpx": ("TransportError",),
}
# A full disk is the operator's to fix, whichever library hit it (DuckDB wraps it in its own IOException).
_DISK_FULL = ("No space left on device", "Disk quota exceeded")
_URL_PASSWORD = re.compile(r"(\w[\w+.-]*://[^:/@\s]+:)[^@\s]+@")
_KEY_VALUE_SECRET = re.compile(r"\b(password|passwd|pwd|token|secret)(\s*=\s*)([^\s,;]+)", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[^\s,;]+", re.IGNORECASE)
_SECRET_ENV = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL|PSEUDONYM_KEY", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _classes(table: Mapping[str, tuple[str, ...]]) -> tuple[type[BaseException], ...]:
    found = []
    for module, names in table.items():
        loaded = sys.modules.get(module)
        found += [getattr(loaded, name) for name in names if loaded is not None and hasattr(loaded, name)]
    return tuple(found)


def scrub(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` on one line with secrets (URL passwords, key=value secrets, bearer tokens, the values of secret
    environment variables) replaced by *** and resident ID and mobile numbers masked."""
    environ = os.environ if environ is None else environ
    for name, value in environ.items():
        if _SECRET_ENV.search(name) and len(value) >= 4:
            text = text.replace(value, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _KEY_VALUE_SECRET.sub(r"\1\2***", text)
    text = _BEARER.sub(r"\1***", text)
    text = mask_text(_ANSI.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= _MAX else text[:_MAX - 3] + "..."


def _os_message(exc: OSError) -> str:
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"cannot reach a server: {exc.strerror or exc}"
    if exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else str(exc.filename)
        return f"{exc.strerror or type(exc).__name__}: {target}"
    return str(exc) or type(exc).__name__


def describe(exc: BaseException) -> tuple[list[str], int]:
    """The error lines (without the `error:` prefix, scrubbed) and exit code a command ends with after `exc`."""
    if isinstance(exc, KeyboardInterrupt):
        return ["interrupted"], INTERRUPTED
    if isinstance(exc, _classes(_EXPECTED)):
        text = str(getattr(exc, "message", None) or exc)  # a sharing error's message is without its HTTP status
        if isinstance(exc, _classes(_FILE_ERRORS)):  # several bad fields: one file:line: field line each
            return [scrub(line) for line in text.splitlines() if line.strip()] or [type(exc).__name__], 1
        return [scrub(text) or type(exc).__name__], 1
    if isinstance(exc, _classes(_UNREACHABLE)):
        # The driver's own message: SQLAlchemy's wrapper adds the SQL statement and its parameter values.
        cause = str(getattr(exc, "orig", None) or exc).strip()
        return [scrub(f"cannot reach a server: {cause.splitlines()[0] if cause else type(exc).__name__}")], 1
    if isinstance(exc, OSError):
        return [scrub(_os_message(exc))], 1
    if any(words in str(exc) for words in _DISK_FULL):  # DuckDB's IOException names the file it could not write
        return [scrub(f"out of disk space (nothing of this write was committed; free space and run again): {exc}")], 1
    return [scrub(f"this is a bug in countyhub: {type(exc).__name__}: {exc} (run again with --debug for the "
                  "traceback)")], 1


def report(exc: BaseException, debug: bool) -> int:
    """Print how `exc` ended the command (its traceback first with `debug`); returns the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    lines, code = describe(exc)
    for line in lines:
        console.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True, highlight=False)
    return code


class CountyhubGroup(TyperGroup):
    """The root command: whatever a sub-command raises ends in `report` (typer's own usage errors and exits pass)."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors keep typer's message and exit code 2
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one place a command's errors end
            raise typer.Exit(report(exc, bool(ctx.params.get("debug")))) from None
