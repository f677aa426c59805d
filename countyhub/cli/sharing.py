"""`countyhub users|grants|audit …`: users and tokens, access requests and grants, the audit log and its check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table

from countyhub.cli.common import ConfigOpt, console, fail, operator, runtime
from countyhub.flow.runtime import Runtime
from countyhub.sharing.model import AuditEntry, Principal, SharingError

LOCAL = ("Runs locally against the catalog database: local access to it is the platform operator's, "
         "so no token is asked.")
users_app = typer.Typer(help=f"Users of the sharing API (admin). {LOCAL}", no_args_is_help=True)
grants_app = typer.Typer(help="Access requests and grants, as the user whose token is given.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log: check it, or read it as a steward or admin.",
                        no_args_is_help=True)
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="COUNTYHUB_TOKEN", show_default=False,
                                               help="Your API token (or set COUNTYHUB_TOKEN).")]


@contextmanager
def _sharing(config: ConfigOpt) -> Iterator[Runtime]:
    """The runtime; a refusal ends as one red line, and queued audit entries are written before the exit."""
    from countyhub.sharing.audit import AuditError

    rt = runtime(config)
    try:
        yield rt
    except SharingError as exc:
        fail(escape(exc.message))
    finally:
        if "audit" in rt.sharing.__dict__:  # only a command that appended has a writer to wait for
            try:
                rt.sharing.audit.close()
            except AuditError as exc:
                fail(str(exc))


def _caller(rt: Runtime, token: str | None) -> Principal:
    if not token:
        fail("pass --token T or set COUNTYHUB_TOKEN (an admin creates one with `countyhub users add`)")
    return rt.sharing.users.resolve(token.strip())




@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name, e.g. li_mzj (no spaces).")],
    department: Annotated[str, typer.Option(help="Department code (departments/<code>.yml), e.g. mzj.")],
    role: Annotated[str, typer.Option(help="analyst | engineer | steward | admin | app (a department's system "
                                           "calling data services)")],
    config: ConfigOpt = None,
) -> None:
    """Create a user; its API token is printed once, alone on the last line (only a hash is kept)."""
    with _sharing(config) as rt:
        if not (rt.settings.departments_dir / f"{department}.yml").is_file():
            fail(f"no department {department!r}: {rt.settings.departments_dir}/{department}.yml does not exist")
        user, token = rt.sharing.users.add(name, department, role)
        rt.sharing.audit.append(AuditEntry(action="user_add", actor=operator(), department="platform",
                                           detail={"user": user.name, "department": department, "role": role}))
        console.print(f"user {escape(user.name)} ({department}, {role}) created; its API token, shown only now:")
    typer.echo(token)


@users_app.command("list")
def users_list(config: ConfigOpt = None) -> None:
    """Every user with department, role, created and revoked times (never a token)."""
    with _sharing(config) as rt:
        table = Table(Column("name", overflow="fold"), "department", "role", "created", "revoked")
        for u in rt.sharing.users.list():
            table.add_row(escape(str(u["name"])), str(u["department"]), str(u["role"]),
                          f"{u['created_at']:%Y-%m-%d %H:%M}", f"{u['revoked_at']:%Y-%m-%d %H:%M}" if u["revoked_at"] else "")
        console.print(table)


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOpt = None) -> None:
    """Stop the user's token at once (the name stays taken: the audit log names it)."""
    with _sharing(config) as rt:
        rt.sharing.users.revoke(name)
        rt.sharing.audit.append(AuditEntry(action="user_revoke", actor=operator(), department="platform",
                                           detail={"user": name}))
        console.print(f"user {escape(name)} revoked")


@grants_app.command("request")
def grants_request(
    dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. shared.resident_profile.")],
    purpose: Annotated[str, typer.Option(help="What the data is for (shown to the owner's steward).")],
    legal_basis: Annotated[str, typer.Option(help="The rule or document that allows the use.")],
    days: Annotated[int, typer.Option(help="How long the grant should last, 1-366 days.")],
    column: Annotated[list[str] | None, typer.Option("--column", help="A column to read (repeat for more).")] = None,
    service: Annotated[list[str] | None, typer.Option(
        "--service", help="A data service of the dataset to call (repeat for more; `countyhub services list`).")] = None,
    token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """File an access request for your department (columns, data services or both); the owner's steward decides."""
    from countyhub.catalog.grant_actions import file_request

    with _sharing(config) as rt:
        filed = file_request(rt.sharing, rt.catalog, _caller(rt, token), dataset, column or [], purpose, legal_basis,
                             days, service or [])
        asked = ", ".join([*filed.columns, *(f"service {s}" for s in filed.services)])
        console.print(f"request {filed.id} filed: {filed.dataset} ({asked}) for {filed.department}; "
                      f"its owner's steward decides (`countyhub grants approve {filed.id}`)")


def _print_requests(items: list[dict]) -> None:
    table = Table("id", Column("dataset", overflow="fold"), "from", Column("columns", overflow="fold"),
                  Column("purpose", overflow="fold"), "requested", "status")
    for r in items:
        status = r["status"] + (" [red](overdue)[/red]" if r["overdue"] else "")
        table.add_row(str(r["id"]), r["dataset"], f"{r['department']} / {escape(r['requester'])}",
                      ", ".join(r["columns"]), escape(r["purpose"]), r["requested_at"][:16], status)
    console.print(table if items else "no requests")


@grants_app.command("pending")
def grants_pending(token: TokenOpt = None, config: ConfigOpt = None) -> None:
    """Pending requests you may see (a steward: those for its department's datasets; overdue ones flagged)."""
    from countyhub.catalog.grant_actions import visible_requests

    with _sharing(config) as rt:
        _print_requests(visible_requests(rt.sharing, _caller(rt, token), "pending"))


@grants_app.command("list")
def grants_list(
    pending: Annotated[bool, typer.Option("--pending", help="Pending requests instead of grants.")] = False,
    token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Grants you may see (expired and revoked ones too), or with --pending the pending requests."""
    from countyhub.catalog.grant_actions import visible_grants, visible_requests

    with _sharing(config) as rt:
        who = _caller(rt, token)
        if pending:
            _print_requests(visible_requests(rt.sharing, who, "pending"))
            return
        now = rt.sharing.clock()
        table = Table("id", Column("dataset", overflow="fold"), "to", Column("columns", overflow="fold"),
                      Column("services", overflow="fold"), "approver", "expires", "state")
        grants = visible_grants(rt.sharing, who)
        for g in grants:
            state = "revoked" if g.revoked_at else "active" if g.active(now) else "expired"
            table.add_row(str(g.id), g.dataset, g.department, ", ".join(g.columns), ", ".join(g.services),
                          escape(g.approver), f"{g.expires_at:%Y-%m-%d %H:%M}", state)
        console.print(table if grants else "no grants")


@grants_app.command("approve")
def grants_approve(
    request_id: Annotated[int, typer.Argument(help="Request id.")],
    rate: Annotated[float | None, typer.Option(help="Data service calls a second this grant allows (default: "
                                                     "the deployment's service_rate).", min=0.001)] = None,
    quota: Annotated[int | None, typer.Option(help="Data service calls a day this grant allows (default: the "
                                                   "deployment's service_daily_quota).", min=1)] = None,
    token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Approve a request (the owning department's steward or an admin; never the requester)."""
    from countyhub.catalog.grant_actions import approve_request

    with _sharing(config) as rt:
        g = approve_request(rt.sharing, rt.catalog, _caller(rt, token), request_id, rate, quota)
        granted = ", ".join([*g.columns, *(f"service {s}" for s in g.services)])
        console.print(f"grant {g.id}: {g.department} may use {granted} of {g.dataset} "
                      f"until {g.expires_at:%Y-%m-%d %H:%M} UTC")


@grants_app.command("deny")
def grants_deny(request_id: Annotated[int, typer.Argument(help="Request id.")],
                reason: Annotated[str, typer.Option(help="Why (the requesting department reads it).")],
                token: TokenOpt = None, config: ConfigOpt = None) -> None:
    """Deny a request with a reason."""
    from countyhub.catalog.grant_actions import deny_request

    with _sharing(config) as rt:
        r = deny_request(rt.sharing, rt.catalog, _caller(rt, token), request_id, reason)
        console.print(f"request {r.id} denied")


@grants_app.command("revoke")
def grants_revoke(grant_id: Annotated[int, typer.Argument(help="Grant id.")], token: TokenOpt = None,
                  config: ConfigOpt = None) -> None:
    """End a grant at once (the owning department's steward or an admin)."""
    from countyhub.catalog.grant_actions import revoke_grant

    with _sharing(config) as rt:
        g = revoke_grant(rt.sharing, rt.catalog, _caller(rt, token), grant_id)
        console.print(f"grant {g.id} revoked: {g.department} no longer reads {g.dataset}")


@audit_app.command("verify", help=f"Check the hash chain from the first entry on; exit 1 naming the first entry "
                                  f"that was changed, removed or reordered. {LOCAL}")
def audit_verify(config: ConfigOpt = None) -> None:
    with _sharing(config) as rt:
        count, problem = rt.sharing.audit.verify()
    if problem:
        fail(f"audit log: {problem} ({count} {'entry' if count == 1 else 'entries'} before it verified)")
    console.print(f"audit log: {count} entries, chain intact")


@audit_app.command("show")
def audit_show(
    department: Annotated[str | None, typer.Option(help="Entries on the datasets this department owns.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    token: TokenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Who did what, newest first: a steward sees its department's datasets, an admin everything."""
    from countyhub.catalog.grant_actions import audit_entries

    with _sharing(config) as rt:
        entries = audit_entries(rt.sharing, rt.catalog, _caller(rt, token), department, dataset, limit)
        table = Table("id", "at (UTC)", "who", "action", Column("dataset", overflow="fold"),
                      Column("columns", overflow="fold"), "rows", "grant")
        for e in entries:
            table.add_row(str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", f"{escape(e.actor)} ({e.department})", e.action,
                          e.dataset, ", ".join(e.columns), "" if e.rows is None else str(e.rows),
                          "" if e.grant_id is None else str(e.grant_id))
        console.print(table if entries else "no entries")
