"""The true entities: companies (with branches and same-name companies in other cities) and
persons (with very common names shared by different people). Records are drawn from these."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from benchmarks.heldout import identifiers as ids
from benchmarks.heldout import model
from benchmarks.heldout.vocab import (
    CODE_SINCE,
    COMMON_NAMES,
    DISTRICTS,
    GIVEN_CHARS,
    INDUSTRIES,
    LEGAL_FORMS,
    MOBILE_PREFIXES,
    STREETS,
    SURNAMES,
    TRADE_NAMES,
    District,
)


@dataclass(frozen=True)
class Company:
    """A company or a branch. `city_short` is the city without 市, used in bracket names."""

    entity_id: str
    district: District
    trade: str
    industry: str
    legal_form: str  # empty for a branch, whose name ends with 分公司
    name: str
    uscc: str
    legal_rep: str
    street_address: str  # street + number, without the division part
    phone: str
    parent_name: str = ""  # set for branches
    is_branch: bool = False
    same_name_as: str = ""  # entity id of the earlier company whose name it reuses


@dataclass(frozen=True)
class Person:
    entity_id: str
    name: str
    birth: date
    ric: str
    home: District
    street_address: str
    phone: str


def city_short(district: District) -> str:
    return district.city.removesuffix("市")


def person_name(rng: random.Random, allow_common: bool = True) -> str:
    """A full name: a very common one at COMMON_NAME_RATE, else a weighted surname and one or
    two given characters (two-character names are the more common form)."""
    if allow_common and rng.random() < model.COMMON_NAME_RATE:
        return rng.choice(COMMON_NAMES)
    surnames, weights = zip(*SURNAMES, strict=True)
    surname = rng.choices(surnames, weights=weights)[0]
    given_len = 1 if rng.random() < 0.4 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(given_len))


def street_address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}{rng.randint(1, 999)}号"


def landline(district: District, rng: random.Random) -> str:
    return f"{district.area_code}-{rng.randint(2, 8)}{rng.randint(0, 9999999):07d}"


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"


def _fresh_company(entity_id: str, rng: random.Random, used_uscc: set[str]) -> Company:
    district = rng.choice(DISTRICTS)
    trade, industry = rng.choice(TRADE_NAMES), rng.choice(INDUSTRIES)
    legal_form = rng.choices(LEGAL_FORMS, weights=(6, 3, 1))[0]
    name = f"{district.city}{trade}{industry}{legal_form}"
    return Company(
        entity_id=entity_id,
        district=district,
        trade=trade,
        industry=industry,
        legal_form=legal_form,
        name=name,
        uscc=_unique_uscc(district, rng, used_uscc),
        legal_rep=person_name(rng),
        street_address=street_address(rng),
        phone=landline(district, rng),
    )


def _unique_uscc(district: District, rng: random.Random, used: set[str]) -> str:
    """A USCC no other entity has: the ground truth says one code, one entity."""
    while True:
        code = ids.make_uscc(district.code, ids.new_org_code(rng))
        if code not in used:
            used.add(code)
            return code


def new_company(
    entity_id: str, rng: random.Random, earlier: list[Company], used_uscc: set[str]
) -> Company:
    """A company; with BRANCH_RATE a branch of an earlier (non-branch) company in another
    city, with SAME_NAME_RATE a different company reusing an earlier name in another city."""
    base = _fresh_company(entity_id, rng, used_uscc)
    parents = [c for c in earlier[-200:] if not c.is_branch]
    draw = rng.random()
    if parents and draw < model.BRANCH_RATE:
        parent = rng.choice(parents)
        district = _other_city(parent.district, rng)
        name = f"{parent.name}{city_short(district)}分公司"
        return _relocated(base, parent, district, name, is_branch=True, used_uscc=used_uscc)
    if parents and draw < model.BRANCH_RATE + model.SAME_NAME_RATE:
        twin = rng.choice(parents)
        district = _other_city(twin.district, rng)
        # The name keeps the twin's wording but cannot keep its city: two registries in
        # different cities approve the same trade name + industry + form.
        name = f"{district.city}{twin.trade}{twin.industry}{twin.legal_form}"
        return _relocated(base, twin, district, name, is_branch=False, used_uscc=used_uscc)
    return base


def _other_city(district: District, rng: random.Random) -> District:
    return rng.choice([d for d in DISTRICTS if d.city != district.city])


def _relocated(
    base: Company,
    other: Company,
    district: District,
    name: str,
    is_branch: bool,
    used_uscc: set[str],
) -> Company:
    """Base company moved to `district` with the trade name of `other` (parent or twin)."""
    rng = random.Random(base.uscc)  # derived, so the draw count of the main stream is fixed
    return Company(
        entity_id=base.entity_id,
        district=district,
        trade=other.trade,
        industry=other.industry,
        legal_form="" if is_branch else other.legal_form,
        name=name,
        uscc=_unique_uscc(district, rng, used_uscc),
        legal_rep=base.legal_rep,
        street_address=base.street_address,
        phone=landline(district, rng),
        parent_name=other.name if is_branch else "",
        is_branch=is_branch,
        same_name_as="" if is_branch else other.entity_id,
    )


def new_person(entity_id: str, rng: random.Random, used_ric: set[str]) -> Person:
    """A person born 1950-1999 (so a 15-digit first-generation number exists for everyone)."""
    name = person_name(rng)
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    # The id carries a division code that existed when the person was born (GB 11643 as
    # python-stdnum checks it), so older people come from the long-standing districts.
    id_district = rng.choice([d for d in DISTRICTS if CODE_SINCE.get(d.code, 0) <= birth.year])
    while True:
        ric = ids.make_ric(id_district.code, birth, rng.randrange(1, 1000))
        if ric not in used_ric:
            used_ric.add(ric)
            break
    home = id_district if rng.random() < model.PERSON_HOME_IN_ID_DISTRICT else rng.choice(DISTRICTS)
    return Person(
        entity_id=entity_id,
        name=name,
        birth=birth,
        ric=ric,
        home=home,
        street_address=street_address(rng),
        phone=mobile(rng),
    )
