"""The synthetic population: companies (some of them branches, separate legal entities with
their own USCC), individual businesses and natural persons, in their clean form.

Every draw comes from one RNG seeded by the seed alone, so the population is the same whatever
the feeds later do with it; codes are valid and unique, names are unique.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from demo import draws, vocab
from demo.vocab import District
from matching.org_codes import org_code_check_char

__all__ = ["EntityKind", "Population", "SyntheticEntity", "iter_entities"]

_CHINESE_NUMERALS = "零一二三四五六七八九十"


class EntityKind(StrEnum):
    COMPANY = "company"  # legal entity, including branches (separately registered)
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户
    NATURAL_PERSON = "natural_person"


@dataclass(frozen=True, slots=True)
class SyntheticEntity:
    """One entity of the synthetic population, in its clean form.

    ``name`` is the registered name (for people, the name on the ID card); ``alt_names`` are
    other spellings the same entity legitimately goes by (with or without the region prefix,
    region in brackets before the legal form). ``brand`` is the distinctive part of the name,
    where typos are put. ``org_code`` is the 9-character organization code without hyphen
    (chars 9-17 of the USCC); ``registration_number`` the old 15-digit 注册号 of entities
    registered before the 2015 code reform.
    """

    key: str
    kind: EntityKind
    name: str
    district: District
    brand: str
    alt_names: tuple[str, ...] = ()
    uscc: str | None = None
    org_code: str | None = None
    registration_number: str | None = None
    legal_rep: str | None = None
    address: str | None = None
    established: date | None = None
    entity_type: str | None = None
    status: str | None = None
    resident_id: str | None = None
    parent_key: str | None = None

    @property
    def is_branch(self) -> bool:
        return self.parent_key is not None


def _base31(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 31)
        chars.append(draws.USCC_ALPHABET[digit])
    return "".join(reversed(chars))


_LEGAL_FORMS = draws.Weighted([((form, kind), w) for form, kind, w in vocab.LEGAL_FORMS])
_STATUSES = draws.Weighted(vocab.REGISTRY_STATUSES)
_BEIJING = draws.Weighted(list(zip(vocab.BEIJING_DISTRICTS, vocab.BEIJING_WEIGHTS, strict=True)))


class Population:
    """Draws the entities; every draw comes from one RNG so the population depends on the
    seed alone (not on how the feeds are written)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"credithub-sample:{seed}:entities")
        rng = self.rng
        # Organization-code bodies: pre-2015 codes are 8 digits, codes issued with a USCC since
        # the reform start with "MA", individual businesses' with "L" (not a real rule, but it
        # keeps the three spaces apart so no two entities can share an org code).
        self._old_org = draws.Permutation(rng, 10**8)
        self._new_org = draws.Permutation(rng, 31**6)
        self._ib_org = draws.Permutation(rng, 31**7)
        self._reg_serial = draws.Permutation(rng, 10**8)
        self._names: set[str] = set()
        # Recent head offices that branches may belong to (bounded, so memory stays flat).
        self._parents: deque[SyntheticEntity] = deque(maxlen=512)
        self._kinds: list[EntityKind] = []
        self._core_beijing = [d for d in vocab.BEIJING_DISTRICTS if d.since is None]

    def entities(self, count: int) -> Iterator[SyntheticEntity]:
        for index in range(1, count + 1):
            key = f"E{index:06d}"
            kind = self._next_kind()
            if kind is EntityKind.COMPANY:
                yield self._company(key)
            elif kind is EntityKind.INDIVIDUAL_BUSINESS:
                yield self._individual_business(key)
            else:
                yield self._person(key)

    def _next_kind(self) -> EntityKind:
        # Exact shares per block of 20 (75% / 10% / 15%), shuffled within the block.
        if not self._kinds:
            block = (
                [EntityKind.COMPANY] * 15
                + [EntityKind.INDIVIDUAL_BUSINESS] * 2
                + [EntityKind.NATURAL_PERSON] * 3
            )
            self.rng.shuffle(block)
            self._kinds = block
        return self._kinds.pop()

    # ----------------------------------------------------------------- shared parts

    def _district(self) -> District:
        if self.rng.random() < vocab.OTHER_REGION_SHARE:
            return self.rng.choice(vocab.OTHER_DISTRICTS)
        return _BEIJING.pick(self.rng)

    def person_name(self) -> str:
        return draws.person_name(self.rng)

    def _address(self, district: District) -> str:
        rng = self.rng
        street = rng.choice(district.streets)
        address = f"{district.address_prefix}{street}{rng.randint(1, 199)}号"
        if rng.random() < 0.5:
            address += f"{rng.randint(1, 12)}号楼{rng.randint(1, 25)}{rng.randint(1, 30):02d}室"
        return address

    def _uscc(self, prefix: str, district: District, body: str) -> tuple[str, str]:
        org = body + org_code_check_char(body)
        first17 = f"{prefix}{district.code}{org}"
        return first17 + uscc.calc_check_digit(first17), org

    def _registration_number(self, district: District) -> str:
        first14 = f"{district.code}{self._reg_serial.next():08d}"
        return first14 + mod_11_10.calc_check_digit(first14)

    def _established(self, old: bool, after: date | None = None) -> date:
        start, end = (
            (date(1993, 1, 1), date(2014, 12, 31))
            if old
            else (date(2015, 1, 1), date(2025, 12, 31))
        )
        if after is not None:
            start = max(start, after)
        return draws.random_date(self.rng, start, max(start, end))

    def _claim(self, name: str) -> bool:
        if name in self._names:
            return False
        self._names.add(name)
        return True

    # ----------------------------------------------------------------- companies

    def _brand(self, attempt: int) -> str:
        rng = self.rng
        if rng.random() < 0.02:
            return rng.choice(vocab.LATIN_BRANDS) + rng.choice(vocab.BRAND_CHARS)
        # Two characters as real trade names mostly have; three once two keep colliding.
        length = 2 if attempt < 8 else 3
        return "".join(rng.sample(vocab.BRAND_CHARS, length))

    def _company(self, key: str) -> SyntheticEntity:
        rng = self.rng
        if self._parents and rng.random() < 0.08:
            branch = self._branch(key, rng.choice(self._parents))
            if branch is not None:
                return branch
        district = self._district()
        form, entity_type = _LEGAL_FORMS.pick(rng)
        industry = rng.choice(vocab.INDUSTRIES)
        style = rng.random()
        for attempt in range(50):
            brand = self._brand(attempt)
            short = f"{district.city_short}{brand}{industry}{form}"
            full = f"{district.city}{brand}{industry}{form}"
            bracketed = f"{brand}{industry}（{district.city_short}）{form}"
            bare = f"{brand}{industry}{form}"
            name = short if style < 0.75 else full if style < 0.85 else bracketed
            if self._claim(name):
                break
        else:  # pragma: no cover - 50 collisions in a row would need billions of companies
            raise RuntimeError("could not find a free company name")
        alt_names = tuple(n for n in (short, full, bracketed, bare) if n != name)
        old = rng.random() < 0.55
        established = self._established(old)
        body = f"{self._old_org.next():08d}" if old else "MA" + _base31(self._new_org.next(), 6)
        code, org = self._uscc("91", district, body)
        entity = SyntheticEntity(
            key=key,
            kind=EntityKind.COMPANY,
            name=name,
            district=district,
            brand=brand,
            alt_names=alt_names,
            uscc=code,
            org_code=org,
            registration_number=self._registration_number(district) if old else None,
            legal_rep=self.person_name(),
            address=self._address(district),
            established=established,
            entity_type=entity_type,
            status=_STATUSES.pick(rng),
        )
        self._parents.append(entity)
        return entity

    def _branch(self, key: str, parent: SyntheticEntity) -> SyntheticEntity | None:
        rng = self.rng
        district = self._district()
        place = district.short if district.city == parent.district.city else district.city_short
        suffix = f"{place}分公司"
        name = parent.name + suffix
        if not self._claim(name):
            suffix = f"{place}第{_CHINESE_NUMERALS[rng.randint(2, 9)]}分公司"
            name = parent.name + suffix
            if not self._claim(name):
                return None
        established = self._established(
            rng.random() < 0.4, after=parent.established or date(1993, 1, 1)
        )
        old = established.year < 2015
        body = f"{self._old_org.next():08d}" if old else "MA" + _base31(self._new_org.next(), 6)
        code, org = self._uscc("91", district, body)
        return SyntheticEntity(
            key=key,
            kind=EntityKind.COMPANY,
            name=name,
            district=district,
            brand=parent.brand,
            alt_names=tuple(n + suffix for n in parent.alt_names),
            uscc=code,
            org_code=org,
            registration_number=self._registration_number(district) if old else None,
            legal_rep=self.person_name(),  # the branch head (负责人)
            address=self._address(district),
            established=established,
            entity_type=f"{parent.entity_type}分公司",
            status=_STATUSES.pick(rng),
            parent_key=parent.key,
        )

    # ----------------------------------------------------------------- individual businesses

    def _individual_business(self, key: str) -> SyntheticEntity:
        rng = self.rng
        district = self._district()
        operator = self.person_name()
        for _ in range(50):
            if rng.random() < 0.7:
                # Shops are usually named after the operator: 张记小吃店.
                brand = operator[0] + rng.choice(vocab.SHOP_MARKERS)
            else:
                brand = "".join(rng.sample(vocab.BRAND_CHARS, 2))
            shop = brand + rng.choice(vocab.SHOP_KINDS)
            name = f"{district.city}{district.name}{shop}"
            if self._claim(name):
                break
        else:  # pragma: no cover
            raise RuntimeError("could not find a free shop name")
        old = rng.random() < 0.5
        # Some older individual businesses never had a USCC put on the registry extract.
        code: str | None = None
        org: str | None = None
        if not (old and rng.random() < 0.3):
            code, org = self._uscc("92", district, "L" + _base31(self._ib_org.next(), 7))
        return SyntheticEntity(
            key=key,
            kind=EntityKind.INDIVIDUAL_BUSINESS,
            name=name,
            district=district,
            brand=brand,
            alt_names=(f"{district.name}{shop}", f"{district.city_short}{district.name}{shop}"),
            uscc=code,
            org_code=org,
            registration_number=self._registration_number(district) if old else None,
            legal_rep=operator,
            address=self._address(district),
            established=self._established(old),
            entity_type="个体工商户",
            status=_STATUSES.pick(rng),
        )

    # ----------------------------------------------------------------- natural persons

    def _person(self, key: str) -> SyntheticEntity:
        rng = self.rng
        district = self._district()
        birth = draws.random_date(rng, date(1955, 1, 1), date(2004, 12, 31))
        if district.since is not None and birth.year < district.since:
            # The code did not exist when this person got a number: stdnum would reject it.
            district = rng.choice(self._core_beijing)
        male = rng.random() < 0.5
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        first17 = f"{district.code}{birth:%Y%m%d}{sequence:03d}"
        # stdnum's calc_check_digit expects a full-length number and ignores its last char.
        resident_id = first17 + ric.calc_check_digit(first17 + "0")
        name = self.person_name()
        return SyntheticEntity(
            key=key,
            kind=EntityKind.NATURAL_PERSON,
            name=name,
            district=district,
            brand=name[1:],
            resident_id=resident_id,
        )


def iter_entities(count: int, *, seed: int = 7) -> Iterator[SyntheticEntity]:
    """The clean synthetic population :func:`demo.generator.generate_feeds` writes feeds
    about, in key order."""
    return Population(seed).entities(count)
