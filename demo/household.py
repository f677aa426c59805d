"""gaj household registry (户籍管理系统): persons grouped into households, one address per household."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from faker.providers.address.zh_CN import Provider as AddressTables
from faker.providers.person.zh_CN import Provider as NameTables

from countyhub.demo.divisions import TOWNSHIPS, Township, id_division_code
from countyhub.demo.draws import Weighted, choice, randint
from countyhub.demo.identifiers import mobile, resident_id
from countyhub.demo.timeline import AS_OF, random_date, random_datetime, stamp, years_before

ETHNICITIES = (("汉族", 970), ("土家族", 12), ("回族", 6), ("苗族", 5), ("彝族", 4), ("藏族", 3))
_HOUSEHOLD_SIZES = ((1, 15), (2, 25), (3, 30), (4, 20), (5, 10))
# Urban 街道 hold most of the registered population; rural towns fewer each.
_TOWNSHIP_WEIGHTS = tuple(30 if t.is_urban else 10 for t in TOWNSHIPS)
_VILLAGES = ("新华", "石岭", "双河", "龙门", "太平", "高峰", "青杠", "柏林", "金竹", "团结", "白鹤", "三合")
_SURNAMES = tuple(NameTables.last_names)
_SURNAME_PICK = Weighted(_SURNAMES, NameTables.last_names.values())
_TOWNSHIP_PICK = Weighted(TOWNSHIPS, _TOWNSHIP_WEIGHTS)
_ETHNICITY_PICK = Weighted(*zip(*ETHNICITIES))
_SIZE_PICK = Weighted(*zip(*_HOUSEHOLD_SIZES))
# A member younger than this is a minor, reached through the household head's phone.
_MINOR_SINCE = years_before(AS_OF.date(), 16)
_SINGLE_MALE = tuple(n for n in NameTables.first_names_male if len(n) == 1)
_SINGLE_FEMALE = tuple(n for n in NameTables.first_names_female if len(n) == 1)

PERSONS_DDL = """CREATE TABLE persons (
    person_id INTEGER PRIMARY KEY, id_number TEXT NOT NULL, name TEXT NOT NULL, gender TEXT NOT NULL,
    birth_date TEXT NOT NULL, ethnicity TEXT NOT NULL, household_id INTEGER NOT NULL,
    township_code TEXT NOT NULL, address TEXT NOT NULL, phone TEXT, updated_at TEXT NOT NULL)"""
HOUSEHOLDS_DDL = """CREATE TABLE households (
    household_id INTEGER PRIMARY KEY, head_id_number TEXT NOT NULL, township_code TEXT NOT NULL,
    address TEXT NOT NULL, registered_on TEXT NOT NULL, updated_at TEXT NOT NULL)"""


@dataclass
class Person:
    person_id: int
    id_number: str
    name: str
    gender: str
    birth_date: str
    ethnicity: str
    household_id: int
    township_code: str
    address: str
    phone: str
    updated_at: str


@dataclass
class Household:
    household_id: int
    head_id_number: str
    township_code: str
    address: str
    registered_on: str
    updated_at: str


@dataclass
class Registry:
    persons: list[Person]
    households: list[Household]

    # vars() rather than dataclasses.astuple: astuple deep-copies and was most of the time at 100k persons.
    def person_rows(self) -> list[tuple]:
        return [tuple(vars(p).values()) for p in self.persons]

    def household_rows(self) -> list[tuple]:
        return [tuple(vars(h).values()) for h in self.households]


def person_name(rng: random.Random, male: bool) -> str:
    """Surname by real frequency (faker's zh_CN tables); a one- or two-character given name."""
    given = NameTables.first_names_male if male else NameTables.first_names_female
    surname = _SURNAME_PICK.pick(rng)
    name = choice(rng, given)
    # Faker's lists are mostly single characters; pairing two widens the pool so fewer residents share a name.
    if len(name) == 1 and rng.random() < 0.6:
        name += choice(rng, _SINGLE_MALE if male else _SINGLE_FEMALE)
    return surname + name


def address_in(rng: random.Random, township: Township) -> str:
    if township.is_urban:
        street = choice(rng, _SURNAMES) + choice(rng, AddressTables.street_suffixes)
        return f"{township.full_address_prefix}{street}{randint(rng, 1, 300)}号"
    village = choice(rng, _VILLAGES)
    return f"{township.full_address_prefix}{village}村{randint(rng, 1, 12)}组{randint(rng, 1, 80)}号"


def _birth(rng: random.Random, min_age: int, max_age: int) -> date:
    return random_date(rng, *_birth_span(min_age, max_age))


@cache
def _birth_span(min_age: int, max_age: int) -> tuple[date, date]:
    today = AS_OF.date()
    return years_before(today, max_age + 1), years_before(today, min_age)


def build_registry(rng: random.Random, persons: int) -> Registry:
    """`persons` residents in households of 1-5; the head is the first member and an adult."""
    taken: set[str] = set()
    people: list[Person] = []
    households: list[Household] = []
    while len(people) < persons:
        household_id = len(households) + 1
        township = _TOWNSHIP_PICK.pick(rng)
        address = address_in(rng, township)
        ethnicity = _ETHNICITY_PICK.pick(rng)
        size = min(_SIZE_PICK.pick(rng), persons - len(people))
        head_phone = mobile(rng)
        for member in range(size):
            male = rng.random() < 0.5
            birth = _birth(rng, 22, 85) if member == 0 else _birth(rng, 0, 90)
            # Minors are reached through the household head's phone, as the registry records it.
            phone = head_phone if member == 0 or birth > _MINOR_SINCE else mobile(rng)
            people.append(Person(
                person_id=len(people) + 1,
                id_number=resident_id(rng, id_division_code(birth.year), birth, male, taken),
                name=person_name(rng, male),
                gender="男" if male else "女",
                birth_date=birth.isoformat(),
                ethnicity=ethnicity if rng.random() < 0.9 else _ETHNICITY_PICK.pick(rng),
                household_id=household_id,
                township_code=township.code,
                address=address,
                phone=phone,
                updated_at=stamp(random_datetime(rng, datetime(2020, 1, 1), AS_OF)),
            ))
        head = people[-size]
        registered_on = random_date(rng, max(years_before(date.fromisoformat(head.birth_date), -18),
                                             date(1985, 1, 1)), AS_OF.date())
        households.append(Household(
            household_id=household_id,
            head_id_number=head.id_number,
            township_code=township.code,
            address=address,
            registered_on=registered_on.isoformat(),
            updated_at=stamp(random_datetime(rng, datetime(registered_on.year, registered_on.month,
                                                           registered_on.day), AS_OF)),
        ))
    return Registry(people, households)
