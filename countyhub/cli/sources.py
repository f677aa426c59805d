"""`countyhub sources …`: scaffold a department file, validate department files, test connections, list streams."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from countyhub.cli.common import ConfigOpt, console, fail, runtime

if TYPE_CHECKING:
    from countyhub.connectors import Connector, Stream

sources_app = typer.Typer(help="Department sources: scaffold, validate files, test connections, list streams.",
                          no_args_is_help=True)
CURSOR_NAMES = ("updated_at", "update_time", "modified_at", "last_modified", "gxsj", "updated")
KINDS = ("sql", "files", "http_json")


def _ask(value: str | None, flag: str, prompt: str, default: str | None = None) -> str:
    """A flag's value, else a prompt on a terminal, else a clear error naming the flag."""
    if value:
        return value
    if sys.stdin.isatty():
        return typer.prompt(prompt, default=default) if default is not None else typer.prompt(prompt)
    if default is not None:
        return default
    fail(f"{flag} is required (or run `countyhub sources add` in a terminal to be asked)")


def _source_config(kind: str, location: str, secret_env: str | None) -> dict[str, Any]:
    if kind == "sql":
        config: dict[str, Any] = {"url": location}
        if secret_env:
            config["password_env"] = secret_env
    elif kind == "files":
        config = {"path": location}
    else:
        config = {"base_url": location}
        if secret_env:
            config["token_env"] = secret_env
    return config


def _streams(kind: str, config: dict[str, Any], names: list[str], discover: bool, code: str) -> list[dict]:
    """Streams from --stream flags, or every table the source offers (with keys and a cursor guess)."""
    streams = [{"name": re.sub(r"\W+", "_", n.split(":")[0].lower()), "table": n.split(":")[-1]} if kind == "sql"
               else {"name": n.split(":")[0], "pattern" if kind == "files" else "path": n.split(":")[-1]}
               for n in names]
    if discover and kind == "sql":
        from countyhub.connectors import get_connector

        connector = get_connector(kind)(config, where=f"departments/{code}.yml")
        connector.check()
        streams = []
        for found in connector.discover(None):
            cursor = next((c for c in CURSOR_NAMES if c in found.schema.names), None)
            streams.append({"name": str(found.name), "table": str(found.name), "primary_key": list(map(str, found.primary_key)),
                            **({"cursor": cursor} if cursor else {})})
    return streams


def _key_advice(kind: str, config: dict[str, Any], streams: list[dict], code: str) -> dict[str, str]:
    """For each stream without a key: a key proposed from its data, as one line (stream name -> advice).

    Never set silently: which columns identify a person is the department's word, the data only suggests it.
    """
    from countyhub.connectors import ConnectorError, Stream, get_connector
    from countyhub.connectors.keys import key_advice, propose_key
    from countyhub.lakehouse.load import resolve_mode

    if kind not in ("sql", "files"):
        return {}
    connector = get_connector(kind)(config, where=f"departments/{code}.yml")
    advice = {}
    for entry in streams:
        if entry.get("primary_key"):
            continue
        stream = Stream.model_validate(entry)
        try:
            proposal = propose_key(connector, stream)
        except ConnectorError as exc:  # the file is still worth writing; the warning says why there is no proposal
            console.print(f"[yellow]warning[/yellow] {escape(str(exc))}", soft_wrap=True)
            proposal = None
        if proposal is None and kind == "files":
            continue  # no file in the drop folder yet: nothing to read, and files loads replace per file
        entry["primary_key"] = []
        advice[stream.name] = key_advice(proposal, resolve_mode(stream, connector) == "incremental")
    return advice


def _with_key_comments(text: str, streams: list[dict], advice: dict[str, str]) -> str:
    """The dumped YAML with each stream's advice as a comment after its empty `primary_key: []`.

    The scaffold has one source and only streams carry `primary_key`, so the n-th empty one belongs to the
    n-th stream that has advice.
    """
    notes = iter(advice[s["name"]] for s in streams if s["name"] in advice)
    return re.sub(r"(?m)^(\s*primary_key: \[\])$", lambda m: f"{m.group(1)}  # {next(notes)}", text)


@sources_app.command("add")
def sources_add(
    code: Annotated[str | None, typer.Argument(help="Department code (lower-case pinyin initials, e.g. rsj).")] = None,
    name: Annotated[str | None, typer.Option(help="Department name in Chinese.")] = None,
    name_en: Annotated[str | None, typer.Option(help="Department name in English.")] = None,
    steward: Annotated[str | None, typer.Option(help="Who answers for the data.")] = None,
    email: Annotated[str | None, typer.Option(help="Steward's e-mail.")] = None,
    sharing_type: Annotated[str, typer.Option(help="unconditional | conditional | not_shared")] = "conditional",
    kind: Annotated[str | None, typer.Option(help="Connector kind: sql | files | http_json.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name, e.g. social_insurance.")] = None,
    location: Annotated[str | None, typer.Option(help="SQLAlchemy URL, drop folder or API base URL.")] = None,
    secret_env: Annotated[str | None, typer.Option(help="Env var (or airflow:<conn_id>) holding the password/token.")] = None,
    stream: Annotated[list[str] | None, typer.Option(help="name[:table|pattern|path]; repeat for more streams.")] = None,
    discover: Annotated[bool, typer.Option(help="Connect now and add every table with its key and cursor.")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing department file.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Scaffold departments/<code>.yml from flags (or questions in a terminal), validated before it is written."""
    from countyhub.connectors import check_department
    from countyhub.core.departments import DepartmentFileError, load_department

    settings = runtime(config).settings
    code = _ask(code, "CODE", "department code (e.g. rsj)")
    path = settings.departments_dir / f"{code}.yml"
    if path.exists() and not force:
        fail(f"{path} exists; edit it, or pass --force to overwrite")
    kind = _ask(kind, "--kind", f"connector kind ({' | '.join(KINDS)})", "sql")
    source_config = _source_config(kind, _ask(location, "--location", "URL, drop folder or API base URL"), secret_env)
    department = {
        "code": code, "name": _ask(name, "--name", "name (中文)"), "name_en": _ask(name_en, "--name-en", "name (English)"),
        "owner": {"steward": _ask(steward, "--steward", "steward"), **({"email": email} if email else {})},
        "sharing_type": sharing_type, "schedule": "@daily",
        "sources": [{"name": _ask(source, "--source", "source name", "main"), "kind": kind, "config": source_config,
                     "streams": _streams(kind, source_config, stream or [], discover, code)}],
    }
    streams = department["sources"][0]["streams"]
    if not streams:
        fail("no streams: pass --stream name[:table] (repeatable) or --discover")
    advice = _key_advice(kind, source_config, streams, code) if discover or kind == "files" else {}
    text = f"# {department['name']} — scaffolded by `countyhub sources add`; secrets stay in the environment.\n"
    text += _with_key_comments(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), streams, advice)
    tmp = path.with_suffix(".yml.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        check_department(load_department(tmp.rename(path)))
    except DepartmentFileError as exc:
        path.unlink()
        fail(str(exc))
    for stream_name, line in advice.items():
        console.print(f"[yellow]warning[/yellow] {escape(f'{path}: stream {stream_name} has no primary_key; {line}')}",
                      soft_wrap=True)
    console.print(f"[green]wrote[/green] {path}; next: countyhub sources test {code}")


@sources_app.command("validate")
def sources_validate(config: ConfigOpt = None) -> None:
    """Validate every departments/<code>.yml against the installed connector kinds; errors name file, line and field."""
    from countyhub.connectors import check_departments
    from countyhub.core.departments import DepartmentFileError, load_departments

    try:
        departments = check_departments(load_departments(runtime(config).settings.departments_dir))
    except DepartmentFileError as exc:
        fail(str(exc))
    for d in departments:
        streams = sum(len(s.streams) for s in d.sources)
        console.print(f"[green]ok[/green] {d.path}: {d.code} {d.name} — {len(d.sources)} sources, {streams} streams")


@sources_app.command("test")
def sources_test(
    department: Annotated[str, typer.Argument(help="Department code, e.g. gaj.")],
    config: ConfigOpt = None,
) -> None:
    """Check each source of a department is reachable and list its streams with row counts, keys and load mode."""
    from countyhub.connectors import ConnectorError, check_department
    from countyhub.core.departments import DepartmentFileError, load_department
    from countyhub.flow.ingest import connector_for
    from countyhub.lakehouse.load import resolve_mode

    rt = runtime(config)
    path: Path = rt.settings.departments_dir / f"{department}.yml"
    if not path.exists():
        fail(f"no department file {path}")
    table = Table("source", "stream", "columns", "rows", "primary key", "cursor", "mode")
    warnings: list[str] = []
    try:
        dept = check_department(load_department(path))
        for src in dept.sources:
            connector = connector_for(rt, dept, src)
            connector.check()
            by_name = {s.name: s for s in src.streams}
            for found in connector.discover(src.streams):
                declared = by_name[found.name]
                if found.row_count is not None:
                    rows = f"{found.row_count:,}"
                else:  # e.g. a drop folder: what the next load would take, estimated ("~")
                    guess = connector.estimate(declared, None)
                    rows = "" if guess is None else f"~{guess:,}"
                mode = resolve_mode(declared, connector)
                table.add_row(src.name, found.name, str(len(found.schema)), rows, ", ".join(found.primary_key),
                              declared.cursor or "", mode)
                warnings += _key_warnings(path, connector, declared, mode)
            missing = set(by_name) - {row for row in table.columns[1].cells}
            for name in sorted(missing):
                table.add_row(src.name, name, "[red]not found[/red]", "", "", "", "")
                try:  # the connector's own words for why (a drop folder names its folder and pattern)
                    connector.schema_of(by_name[name])
                except ConnectorError as exc:
                    warnings.append(str(exc))
            warnings += [f"department {dept.code}, source {src.name}, {w}"
                         for w in connector.advise([s for s in src.streams if s.name not in missing])]
    except (ConnectorError, DepartmentFileError) as exc:
        fail(str(exc))
    console.print(table)
    for warning in warnings:
        console.print(f"[yellow]warning[/yellow] {escape(warning)}", soft_wrap=True)


def _key_warnings(path: Path, connector: Connector, stream: Stream, mode: str) -> list[str]:
    """An incremental stream without a key (each update of a row is appended again), or a declared key the
    data breaks (duplicates or empty values): one line each, naming the file and the stream."""
    from countyhub.connectors import ConnectorError
    from countyhub.connectors.keys import check_key, key_advice, propose_key

    try:
        if not stream.primary_key:
            if mode != "incremental":
                return []
            return [f"{path}: stream {stream.name} has no primary_key; {key_advice(propose_key(connector, stream), True)}"]
        check = check_key(connector, stream)
    except ConnectorError as exc:  # the connection was fine (listed above): a key check must not hide the table
        return [f"{path}: stream {stream.name}: cannot check its key: {exc}"]
    if check is None or check.holds:
        return []
    then = "loads keep one row per key value and quarantine the rows that conflict with it"
    return [f"{path}: stream {stream.name}: {check.describe()}; {then}"]
