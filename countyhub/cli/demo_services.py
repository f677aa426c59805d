"""The demo's data services: a grant for mzj's system on the resident services, and one curl per service."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from countyhub.flow.runtime import Runtime

CALLER = "app_mzj"  # the civil affairs bureau's system: it checks residence and allowance before paying out
GRANTED = ("household_verify", "subsidy_verify")


def read_tokens(path: Path) -> dict[str, tuple[str, str, str]]:
    """`<home>/demo/tokens.txt` as {name: (department, role, token)}; a missing file is an empty one."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) == 4:
            out[parts[0]] = (parts[1], parts[2], parts[3])
    return out


def grant_demo_services(runtime: Runtime, tokens: Path) -> None:
    """app_mzj asks for the resident_profile services and steward_dsj approves (once: a re-run keeps the grant)."""
    from countyhub.catalog.grant_actions import approve_request, file_request

    sharing, known = runtime.sharing, read_tokens(tokens)
    if CALLER not in known or "steward_dsj" not in known:
        return
    active = sharing.grants.active_grant("mzj", "shared.resident_profile")
    if active is not None and set(GRANTED) <= set(active.services):
        return
    app = sharing.users.resolve(known[CALLER][2])
    steward = sharing.users.resolve(known["steward_dsj"][2])
    filed = file_request(sharing, runtime.catalog, app, "shared.resident_profile", [], "最低生活保障审批前核验户籍与低保身份",
                         "《社会救助暂行办法》第十一条", 365, list(GRANTED))
    approve_request(sharing, runtime.catalog, steward, filed.id, rate_per_second=200, daily_quota=100_000)
    sharing.audit.flush()


def example_calls(runtime: Runtime, tokens: Path) -> list[str]:
    """One curl per declared service, with a real value from the demo lake and app_mzj's token."""
    base = f"http://{runtime.settings.catalog_host}:{runtime.settings.catalog_port}"
    token = f"$(awk '$1==\"{CALLER}\"{{print $4}}' {tokens})"
    with runtime.lake.reader() as con:
        person = con.execute("SELECT id_number, name FROM lake.shared.resident_profile "
                             "WHERE subsidy_types LIKE '%最低生活保障%' ORDER BY id_number LIMIT 1").fetchone()
        uscc = con.execute("SELECT min(uscc) FROM lake.shared.enterprise_registry").fetchone()
        grid = con.execute("SELECT min(grid_code), min(township_code) FROM lake.shared.urban_grids").fetchone()
    values = {"id_number": person[0] if person else "", "name": person[1] if person else "",
              "credit_code": uscc[0] if uscc else "", "grid_code": grid[0] if grid else "",
              "township_code": grid[1] if grid else ""}
    lines = []
    for service in runtime.sharing.services.all():
        query = urlencode({p.name: values.get(p.name, p.example) for p in service.params if p.required})
        lines.append(f'curl -s -H "Authorization: Bearer {token}" '
                     f'"{base}/api/services/{service.table}/{service.name}?{query}"')
    return lines
