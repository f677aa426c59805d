"""Seeds derived from countyhub's own files: the county's data resources (department files + contracts) as a CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from countyhub.contracts.odcs import Contract
from countyhub.core.departments import Department

RESOURCES_SEED = Path("seeds") / "department_resources.csv"
# One row per resource a department holds (a stream loaded into raw_<dept>) or shares (a contract's dataset).
RESOURCE_COLUMNS = ("department_code", "resource_kind", "resource_name", "title_zh", "title_en", "classification",
                    "sharing_type", "sharing_conditions", "update_cycle", "origin", "source_departments")


def _held(dept: Department) -> list[dict[str, str]]:
    return [{"department_code": dept.code, "resource_kind": "held", "resource_name": f"{dept.raw_schema}.{stream.name}",
             "title_zh": stream.title or stream.name, "title_en": stream.title_en or stream.name.replace("_", " "),
             "classification": stream.classification, "sharing_type": dept.sharing_type,
             "sharing_conditions": dept.sharing_conditions or "", "update_cycle": dept.schedule or "",
             "origin": f"{source.title or source.name} ({source.kind})", "source_departments": dept.code}
            for source in dept.sources for stream in source.streams]


def _shared(contract: Contract) -> dict[str, str]:
    sources = contract.custom.get("sourceDepartments") or [contract.department]
    return {"department_code": contract.department, "resource_kind": "shared",
            "resource_name": f"shared.{contract.dataset}", "title_zh": contract.title or contract.dataset,
            "title_en": contract.dataset.replace("_", " "), "classification": contract.classification,
            "sharing_type": contract.sharing_type, "sharing_conditions": contract.sharing_conditions or "",
            "update_cycle": contract.update_cycle or "", "origin": f"{contract.id} v{contract.version}",
            "source_departments": ",".join(sources if isinstance(sources, list) else [str(sources)])}


def resources_csv(departments: list[Department], contracts: list[Contract]) -> str:
    """The seed's text: held streams by department file order, then shared datasets by contract path."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESOURCE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for dept in departments:
        writer.writerows(_held(dept))
    writer.writerows(_shared(c) for c in contracts)
    return out.getvalue()


def departments_csv(departments: list[Department]) -> str:
    """One row per department file: who the resources belong to."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("department_code", "department_name", "department_name_en", "steward", "contact"))
    writer.writerows((d.code, d.name, d.name_en, d.owner.steward, d.owner.email or "") for d in departments)
    return out.getvalue()


def seed_files(departments: list[Department], contracts: list[Contract]) -> dict[Path, str]:
    """Every generated seed of a deployment, by its path in the dbt project."""
    return {RESOURCES_SEED: resources_csv(departments, contracts),
            Path("seeds") / "departments.csv": departments_csv(departments)}
