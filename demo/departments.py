"""The four departments added for issue 16 (rsj, zjj, jyj, wjj): their source systems written from the gaj registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from countyhub.demo import enrollment_book, health, housing, social_insurance
from countyhub.demo.education import SCHOOLS_DDL, build_applications, build_schools
from countyhub.demo.household import Registry
from countyhub.demo.permits import Permits
from countyhub.demo.store import JYJ_DB, JYJ_DROP, RSJ_DB, WJJ_DB, ZJJ_DB, rng_for, write_sqlite

SqliteWriter = Callable[[Path, dict[str, tuple[str, list[tuple]]]], None]
from countyhub.demo.timeline import AS_OF, years_before


def write_rsj_zjj(out: Path, seed: int, registry: Registry, permits: Permits, records: list[dict],
                  write: SqliteWriter = write_sqlite) -> dict[str, int]:
    """rsj insured persons and talents, zjj property records and rental applications; their row counts."""
    jobs = social_insurance.employers(records)
    insured = social_insurance.build_insured(rng_for(seed, "rsj"), registry.persons, jobs)
    talents = social_insurance.build_talents(rng_for(seed, "rsj.talents"), registry.persons, jobs)
    write(out / RSJ_DB, {"insured_persons": (social_insurance.INSURED_DDL, insured),
                                "talents": (social_insurance.TALENTS_DDL, talents)})
    properties = housing.build_properties(rng_for(seed, "zjj"), registry.households, registry.persons, permits.holders)
    sizes: dict[int, int] = {}
    for person in registry.persons:
        sizes[person.household_id] = sizes.get(person.household_id, 0) + 1
    rentals = housing.build_rentals(rng_for(seed, "zjj.rentals"), registry.persons, sizes, permits.holders)
    write(out / ZJJ_DB, {"property_records": (housing.PROPERTY_DDL, properties),
                                "rental_applications": (housing.RENTAL_DDL, rentals)})
    return {"rsj.insured_persons": len(insured), "rsj.talents": len(talents),
            "zjj.property_records": len(properties), "zjj.rental_applications": len(rentals)}


def write_jyj_wjj(out: Path, seed: int, registry: Registry, permits: Permits,
                  write: SqliteWriter = write_sqlite) -> dict[str, int]:
    """jyj schools and one enrollment workbook per primary school, wjj clinics and vaccinations; their row counts."""
    rng = rng_for(seed, "jyj")
    schools = build_schools(rng)
    write(out / JYJ_DB, {"schools": (SCHOOLS_DDL, schools)})
    applications = build_applications(rng_for(seed, "jyj.enrollment"), registry.persons, permits.children, schools)
    drop = out / JYJ_DROP
    drop.mkdir(parents=True, exist_ok=True)
    names = {s[0]: s[1] for s in schools}
    written = {drop / enrollment_book.file_name(code) for code in applications}
    for stale in drop.glob("enrollment_*.xlsx"):  # the demo owns this folder: no workbook of an older county
        if stale not in written:
            stale.unlink()
    book_rng = rng_for(seed, "jyj.workbooks")
    for code, rows in sorted(applications.items()):
        enrollment_book.write_workbook(drop / enrollment_book.file_name(code), book_rng, names[code], rows)

    clinics = health.build_clinics(rng_for(seed, "wjj"))
    since = years_before(AS_OF.date(), 7).isoformat()
    children = [health.Child(p.id_number, p.name, p.birth_date, p.township_code)
                for p in registry.persons if p.birth_date >= since]
    children += [health.Child(c.id_number, c.name, c.birth_date, c.township_code) for c in permits.children]
    vaccinations = health.build_vaccinations(rng_for(seed, "wjj.vaccinations"), children)
    write(out / WJJ_DB, {"clinics": (health.CLINICS_DDL, clinics),
                                "vaccinations": (health.VACCINATIONS_DDL, vaccinations)})
    return {"jyj.schools": len(schools), "jyj.enrollment_applications": sum(map(len, applications.values())),
            "wjj.clinics": len(clinics), "wjj.vaccinations": len(vaccinations)}
