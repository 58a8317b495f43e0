"""Deterministic synthetic feeds for the six demo departments, with the ground truth.

:func:`iter_entities` draws a population of synthetic companies (some of them branches,
separate legal entities with their own USCC), individual businesses and natural persons.
:func:`generate_feeds` turns that population into the six feeds of
``sample_data/catalogue.toml``, in the layouts and encodings the departments really use, with
the noise real feeds carry (name variants, traditional characters, full-width characters,
typos, old codes instead of the USCC, lower-case codes, wrong check characters, missing codes),
and writes ``ground_truth.csv`` saying which entity every record is about.

The same ``seed`` always gives the same bytes. Records are produced entity by entity and written
in chunks, so memory stays bounded however large the population is.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import sqlite3
import zipfile
from bisect import bisect
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import accumulate
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from openpyxl import Workbook
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from demo import vocab
from demo.vocab import District
from matching.org_codes import org_code_check_char

__all__ = [
    "AS_OF",
    "COURT_FIELDS",
    "CUSTOMS_COLUMNS",
    "FEEDS",
    "FEED_COURT",
    "FEED_CUSTOMS",
    "FEED_HRSS",
    "FEED_PENALTIES",
    "FEED_REGISTRY",
    "FEED_TAX",
    "GROUND_TRUTH_COLUMNS",
    "HRSS_COLUMNS",
    "PENALTY_COLUMNS",
    "REGISTRY_COLUMNS",
    "TAX_FIELDS",
    "EntityKind",
    "GenerationSummary",
    "SyntheticEntity",
    "generate_feeds",
    "iter_entities",
    "to_fullwidth",
    "to_traditional",
]

FEED_REGISTRY = "samr-registry"
FEED_TAX = "tax-credit-grades"
FEED_PENALTIES = "env-penalties"
FEED_CUSTOMS = "customs-credit"
FEED_COURT = "court-dishonest-debtors"
FEED_HRSS = "hrss-arrears"
FEEDS: tuple[str, ...] = (
    FEED_REGISTRY,
    FEED_TAX,
    FEED_PENALTIES,
    FEED_CUSTOMS,
    FEED_COURT,
    FEED_HRSS,
)

REGISTRY_COLUMNS: tuple[str, ...] = (
    "reg_id",
    "name",
    "uscc",
    "org_code",
    "registration_number",
    "legal_rep",
    "address",
    "established",
    "entity_type",
    "status",
)
TAX_FIELDS: tuple[str, ...] = ("taxpayer_name", "taxpayer_id", "year", "grade", "evaluated_on")
PENALTY_COLUMNS: tuple[str, ...] = (
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_XDR_ZZJG",
    "CF_FRDB",
    "CF_XDR_ZJLX",
    "CF_XDR_ZJHM",
    "CF_XZCFJDSWH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_NR_WFFF",
    "CF_NR_ZKDX",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_GSJZQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "BZ",
)
CUSTOMS_COLUMNS: tuple[str, ...] = (
    "企业名称",
    "统一社会信用代码",
    "海关编码",
    "信用等级",
    "认定日期",
)
COURT_FIELDS: tuple[str, ...] = (
    "case_number",
    "name",
    "party_type",
    "id_number",
    "legal_rep",
    "court",
    "listed_on",
    "reason",
    "removed_on",
    "updated_at",
)
HRSS_COLUMNS: tuple[str, ...] = (
    "seq_id",
    "party_name",
    "uscc",
    "legal_rep",
    "listed_on",
    "reason",
    "authority",
    "updated_at",
)
GROUND_TRUTH_COLUMNS: tuple[str, ...] = ("feed", "source_key", "entity_key")

# The day the synthetic world is observed: no date in any feed lies after it.
AS_OF = date(2026, 3, 31)
TAX_YEARS: tuple[int, ...] = (2024, 2025)
# Penalty drops are monthly files, named by the month of the decision date.
PENALTY_MONTHS: tuple[tuple[int, int], ...] = (
    (2025, 10),
    (2025, 11),
    (2025, 12),
    (2026, 1),
    (2026, 2),
    (2026, 3),
)
CUSTOMS_MONTH = (2026, 3)

# The departments as the catalogue lists them (the penalty standard repeats the authority).
_EPB_NAME = "北京市生态环境局"
_EPB_USCC = "11110000400005724E"
_HRSS_NAME = "北京市人力资源和社会保障局"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CHINESE_NUMERALS = "零一二三四五六七八九十"
# Entities are generated and written in chunks of this size: large enough that shuffling a
# chunk hides the generation order, small enough to keep memory flat.
_CHUNK = 4096
# The fixed timestamp put into the XLSX package, so that the file is reproducible.
_XLSX_STAMP = (2026, 3, 31, 0, 0, 0)

_T = TypeVar("_T")
_K = TypeVar("_K")


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


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_feeds` wrote: record counts and files per feed code."""

    entities: int
    seed: int
    kinds: dict[str, int]
    records: dict[str, int]
    files: dict[str, tuple[Path, ...]]
    ground_truth: Path

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


# --------------------------------------------------------------------------- text helpers

_TRADITIONAL_TABLE = str.maketrans(vocab.TRADITIONAL_CHARS)
_FULLWIDTH_TABLE = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def to_traditional(text: str) -> str:
    """Spell the words and characters of the built-in table in traditional characters."""
    for simplified, traditional in vocab.TRADITIONAL_WORDS:
        text = text.replace(simplified, traditional)
    return text.translate(_TRADITIONAL_TABLE)


def to_fullwidth(text: str) -> str:
    """Turn printable ASCII into the full-width forms (U+FF01-U+FF5E) Chinese IMEs produce."""
    return text.translate(_FULLWIDTH_TABLE)


def _base31(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 31)
        chars.append(_USCC_ALPHABET[digit])
    return "".join(reversed(chars))


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))


class _Weighted(Generic[_T]):
    """A weighted choice with its cumulative weights worked out once (it runs per record)."""

    def __init__(self, pairs: Sequence[tuple[_T, float]]) -> None:
        self._values = [value for value, _ in pairs]
        self._cumulative = list(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> _T:
        return self._values[bisect(self._cumulative, rng.random() * self._total)]


def _person_name(rng: random.Random) -> str:
    given = rng.choice(vocab.GIVEN_CHARS)
    if rng.random() < 0.75:  # most given names have two characters
        given += rng.choice(vocab.GIVEN_CHARS)
    return rng.choice(vocab.SURNAMES) + given


def _utc_stamp(rng: random.Random, day: date) -> str:
    # Departments update during Beijing office hours, 08:00-18:00, i.e. 00:00-10:00 UTC.
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=rng.randrange(36_000))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_LEGAL_FORMS = _Weighted([((form, kind), w) for form, kind, w in vocab.LEGAL_FORMS])
_STATUSES = _Weighted(vocab.REGISTRY_STATUSES)
_BEIJING = _Weighted(list(zip(vocab.BEIJING_DISTRICTS, vocab.BEIJING_WEIGHTS, strict=True)))


class _Permutation:
    """Hands out 0..modulus-1 in a scrambled order, each value once (a*i + b mod modulus).

    Codes built from it are unique without remembering the ones already issued, which keeps
    memory flat for large populations.
    """

    def __init__(self, rng: random.Random, modulus: int) -> None:
        factor = rng.randrange(modulus // 3, modulus)
        while math.gcd(factor, modulus) != 1:
            factor += 1
        self._factor = factor
        self._offset = rng.randrange(modulus)
        self._modulus = modulus
        self._index = 0

    def next(self) -> int:
        if self._index >= self._modulus:
            raise RuntimeError("code space exhausted")
        value = (self._factor * self._index + self._offset) % self._modulus
        self._index += 1
        return value


# --------------------------------------------------------------------------- the population


class _Population:
    """Draws the entities; every draw comes from one RNG so the population depends on the
    seed alone (not on how the feeds are written)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"credithub-sample:{seed}:entities")
        rng = self.rng
        # Organization-code bodies: pre-2015 codes are 8 digits, codes issued with a USCC since
        # the reform start with "MA", individual businesses' with "L" (not a real rule, but it
        # keeps the three spaces apart so no two entities can share an org code).
        self._old_org = _Permutation(rng, 10**8)
        self._new_org = _Permutation(rng, 31**6)
        self._ib_org = _Permutation(rng, 31**7)
        self._reg_serial = _Permutation(rng, 10**8)
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
        return _person_name(self.rng)

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
        return _random_date(self.rng, start, max(start, end))

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
        birth = _random_date(rng, date(1955, 1, 1), date(2004, 12, 31))
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
    """The clean synthetic population :func:`generate_feeds` writes feeds about, in key order."""
    return _Population(seed).entities(count)


# --------------------------------------------------------------------------- noise


class _Noise:
    """Record-level noise. Its RNG is separate from the population's, so the population stays
    the same whatever the feeds do with it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def name(self, entity: SyntheticEntity) -> str:
        rng = self.rng
        name = entity.name
        if entity.kind is EntityKind.NATURAL_PERSON:
            if rng.random() < 0.01:
                name = to_traditional(name)
            if rng.random() < 0.01:
                name = self._typo(name, entity.brand)
            return name
        if entity.alt_names and rng.random() < 0.15:
            name = rng.choice(entity.alt_names)
        if rng.random() < 0.03:
            name = to_traditional(name)
        if rng.random() < 0.025:
            name = self._typo(name, entity.brand)
        if rng.random() < 0.03:
            name = self._width(name)
        if rng.random() < 0.01:
            name = rng.choice((f" {name}", f"{name} ", f"{name}\u3000"))
        return name

    def registry_name(self, entity: SyntheticEntity) -> str:
        # The registry is the master copy: only formatting slips, never another spelling.
        name = entity.name
        if self.rng.random() < 0.01:
            name = self._width(name)
        if self.rng.random() < 0.005:
            name += " "
        return name

    def _width(self, name: str) -> str:
        if "（" in name:
            return name.replace("（", "(").replace("）", ")")
        if any(ch.isascii() for ch in name):
            return to_fullwidth(name)
        return name.replace("有限公司", "有限公司\u3000") if self.rng.random() < 0.3 else name

    def _typo(self, name: str, brand: str) -> str:
        candidates = [i for i, ch in enumerate(brand) if ch in vocab.TYPOS]
        if not brand or brand not in name:
            return name
        if candidates:
            i = self.rng.choice(candidates)
            wrong = vocab.TYPOS[brand[i]]
        else:
            i = self.rng.randrange(len(brand))
            wrong = self.rng.choice([c for c in vocab.BRAND_CHARS if c != brand[i]])
        return name.replace(brand, brand[:i] + wrong + brand[i + 1 :], 1)

    def legal_rep(self, entity: SyntheticEntity) -> str:
        rng = self.rng
        if entity.legal_rep is None or rng.random() < 0.04:
            return ""
        if rng.random() < 0.02:
            # The legal representative changed and this department has the new (or old) one.
            return _person_name(rng)
        return entity.legal_rep

    def uscc(self, code: str, variants: Sequence[tuple[str, float]]) -> tuple[str, str]:
        """Pick a variant ("clean" if none fires) and return (variant, mangled code)."""
        draw = self.rng.random()
        for variant, p in variants:
            if draw < p:
                return variant, self._mangle(code, variant)
            draw -= p
        return "clean", code

    def _mangle(self, code: str, variant: str) -> str:
        if variant == "lower":
            return code.lower()
        if variant == "fullwidth":
            return to_fullwidth(code)
        if variant == "bad_check":
            # A typing slip in the last character: the code fails its check but the record is
            # kept (ground truth still names the entity).
            return code[:17] + self.rng.choice(_USCC_ALPHABET.replace(code[17], ""))
        if variant == "spaced":
            return f"{code[:8]} {code[8:]}" if self.rng.random() < 0.5 else f"{code[:8]}-{code[8:]}"
        if variant == "org_code":
            return f"{code[8:16]}-{code[16]}"
        if variant == "taxpayer":
            return code[2:17]
        if variant == "missing":
            return ""
        return code

    def resident_id(self, number: str) -> str:
        """A full resident id as a penalty feed carries it (mostly clean)."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.04 and number[6:8] == "19":
            return number[:6] + number[8:17]  # the old 15-digit form
        if draw < 0.07:
            return _mask(number, keep_birth=False)
        if draw < 0.09:
            return ""
        if number.endswith("X") and rng.random() < 0.5:
            return number[:17] + "x"
        return number


def _mask(number: str, *, keep_birth: bool) -> str:
    if keep_birth:
        return number[:14] + "****"
    return number[:6] + "********" + number[14:]


# --------------------------------------------------------------------------- feed writing


@dataclass
class _Buffers:
    """One chunk's records per feed, written (and numbered) after shuffling."""

    registry: list[tuple[str, list[str]]] = field(default_factory=list)
    tax: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    penalties: list[tuple[str, list[str], date]] = field(default_factory=list)
    customs: list[tuple[str, list[Any], str]] = field(default_factory=list)
    court: list[tuple[str, dict[str, Any], str, int]] = field(default_factory=list)
    hrss: list[tuple[str, list[Any]]] = field(default_factory=list)


# Noise rates per feed: (variant, probability); the rest of the mass is the clean code.
_TAX_CODES = (("taxpayer", 0.10), ("lower", 0.02), ("fullwidth", 0.015), ("bad_check", 0.015))
_PENALTY_CODES = (
    ("missing", 0.03),
    ("org_code", 0.04),
    ("lower", 0.02),
    ("fullwidth", 0.02),
    ("bad_check", 0.02),
    ("spaced", 0.01),
)
_CUSTOMS_CODES = (
    ("missing", 0.03),
    ("org_code", 0.03),
    ("lower", 0.02),
    ("fullwidth", 0.02),
    ("bad_check", 0.02),
)
_COURT_CODES = (
    ("missing", 0.02),
    ("org_code", 0.04),
    ("lower", 0.02),
    ("fullwidth", 0.01),
    ("bad_check", 0.02),
)
_HRSS_CODES = (
    ("missing", 0.03),
    ("org_code", 0.03),
    ("taxpayer", 0.02),
    ("lower", 0.02),
    ("bad_check", 0.02),
)
_REGISTRY_CODES = (("lower", 0.01), ("fullwidth", 0.01), ("bad_check", 0.01), ("spaced", 0.005))

# How many records (1-5) an entity appears in, by kind.
_RECORD_COUNTS: dict[EntityKind, _Weighted[int]] = {
    EntityKind.COMPANY: _Weighted(list(zip(range(1, 6), (30, 30, 20, 12, 8), strict=True))),
    EntityKind.INDIVIDUAL_BUSINESS: _Weighted(
        list(zip(range(1, 6), (45, 30, 15, 7, 3), strict=True))
    ),
    EntityKind.NATURAL_PERSON: _Weighted(list(zip(range(1, 6), (55, 25, 12, 5, 3), strict=True))),
}
_ORG_PENALTIES = _Weighted([(c, w) for c, w, _ in vocab.PENALTY_CATEGORIES])
_PERSON_PENALTIES = _Weighted([(c, w) for c, _, w in vocab.PENALTY_CATEGORIES if w])
_TAX_GRADES = _Weighted(vocab.TAX_GRADES)
_ORG_VIOLATIONS = tuple(v for v in vocab.VIOLATIONS if not v.for_persons)
_PERSON_VIOLATIONS = tuple(v for v in vocab.VIOLATIONS if v.for_persons)
_CUSTOMS_LEVELS = _Weighted(vocab.CUSTOMS_LEVELS)


class _FeedWriter:
    def __init__(self, out_dir: Path, seed: int) -> None:
        self.out_dir = out_dir
        self.rng = random.Random(f"credithub-sample:{seed}:records")
        self.noise = _Noise(self.rng)
        self.records: Counter[str] = Counter()
        self.files: dict[str, list[Path]] = {feed: [] for feed in FEEDS}
        self._reg_serial = 0
        self._hrss_serial = 0
        self._customs_codes = _Permutation(self.rng, 10**6)
        self._decision_serials: dict[int, int] = {}
        self._case_serials: dict[tuple[int, str], int] = {}

    # ----------------------------------------------------------------- planning

    def plan(self, entity: SyntheticEntity, buffers: _Buffers) -> None:
        rng = self.rng
        total = _RECORD_COUNTS[entity.kind].pick(rng)
        tax_years: list[int] = []
        if entity.kind is EntityKind.NATURAL_PERSON:
            options = [(FEED_COURT, 3.0, 4), (FEED_PENALTIES, 2.0, 3)]
            extra = total
        else:
            buffers.registry.append((entity.key, self._registry_row(entity)))
            extra = total - 1
            if entity.kind is EntityKind.COMPANY:
                established = entity.established or AS_OF
                tax_years = [y for y in TAX_YEARS if established.year <= y]
                options = [
                    (FEED_TAX, 4.0, len(tax_years)),
                    (FEED_PENALTIES, 2.0, 3),
                    (FEED_CUSTOMS, 1.5, 1),
                    (FEED_COURT, 1.5, 3),
                    (FEED_HRSS, 1.0, 2),
                ]
            else:
                options = [(FEED_PENALTIES, 2.0, 3), (FEED_COURT, 1.0, 2), (FEED_HRSS, 1.0, 2)]
        counts = dict.fromkeys(FEEDS, 0)
        for _ in range(extra):
            # A weighted draw among the feeds that still have room for this entity.
            room = sum(weight for feed, weight, cap in options if counts[feed] < cap)
            if not room:
                break
            draw = rng.random() * room
            for feed, weight, cap in options:
                if counts[feed] < cap:
                    chosen = feed
                    draw -= weight
                    if draw < 0:
                        break
            counts[chosen] += 1
        if counts[FEED_TAX] == len(tax_years):
            years = tax_years
        elif counts[FEED_TAX]:
            years = [rng.choice(tax_years)]
        else:
            years = []
        for year in years:
            buffers.tax.append((entity.key, self._tax_record(entity, year)))
        for _ in range(counts[FEED_PENALTIES]):
            row, decided = self._penalty_row(entity)
            buffers.penalties.append((entity.key, row, decided))
        if counts[FEED_CUSTOMS]:
            row, prefix = self._customs_row(entity)
            buffers.customs.append((entity.key, row, prefix))
        for _ in range(counts[FEED_COURT]):
            record, court_code, year = self._court_record(entity)
            buffers.court.append((entity.key, record, court_code, year))
        for _ in range(counts[FEED_HRSS]):
            buffers.hrss.append((entity.key, self._hrss_row(entity)))

    # ----------------------------------------------------------------- record builders

    def _registry_row(self, entity: SyntheticEntity) -> list[str]:
        noise = self.noise
        code = ""
        old_only = entity.registration_number is not None and noise.chance(0.09)
        if entity.uscc is not None and not old_only:
            code = noise.uscc(entity.uscc, _REGISTRY_CODES)[1]
        org = ""
        registration = ""
        if entity.registration_number is not None:
            show_org = entity.org_code is not None and (old_only or noise.chance(0.6))
            show_reg = noise.chance(0.7) or not show_org
            if show_org and entity.org_code is not None:
                org = f"{entity.org_code[:8]}-{entity.org_code[8]}"
            if show_reg:
                registration = entity.registration_number
        return [
            "",  # reg_id, numbered when written
            noise.registry_name(entity),
            code,
            org,
            registration,
            entity.legal_rep or "",
            entity.address or "",
            entity.established.isoformat() if entity.established else "",
            entity.entity_type or "",
            entity.status or "",
        ]

    def _tax_record(self, entity: SyntheticEntity, year: int) -> dict[str, Any]:
        assert entity.uscc is not None
        evaluated = date(year + 1, 3, 1) + timedelta(days=self.rng.randrange(31))
        return {
            "taxpayer_name": self.noise.name(entity),
            "taxpayer_id": self.noise.uscc(entity.uscc, _TAX_CODES)[1],
            "year": year,
            "grade": _TAX_GRADES.pick(self.rng),
            "evaluated_on": evaluated.isoformat(),
        }

    def _party_code(
        self, entity: SyntheticEntity, variants: Sequence[tuple[str, float]]
    ) -> tuple[str, str]:
        if entity.uscc is None:
            return "missing", ""
        return self.noise.uscc(entity.uscc, variants)

    def _penalty_row(self, entity: SyntheticEntity) -> tuple[list[str], date]:
        rng = self.rng
        noise = self.noise
        person = entity.kind is EntityKind.NATURAL_PERSON
        year, month = rng.choice(PENALTY_MONTHS)
        first = date(year, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        decided = _random_date(rng, first, min(last, AS_OF))
        found = decided - timedelta(days=rng.randint(20, 90))
        violation = rng.choice(_PERSON_VIOLATIONS if person else _ORG_VIOLATIONS)
        category = (_PERSON_PENALTIES if person else _ORG_PENALTIES).pick(rng)
        fine = ""
        confiscated = ""
        licence = ""
        if category == "罚款":
            step = 0.01 if violation.fine_max < 1 else 0.1
            amount = round(
                round(rng.uniform(violation.fine_min, violation.fine_max) / step) * step, 2
            )
            fine = f"{amount:.6f}"
            content = f"罚款人民币{round(amount * 10_000)}元"
            if not person and rng.random() < 0.05:
                confiscated = f"{round(rng.uniform(0.1, 5), 2):.6f}"
        elif category == "警告":
            content = "警告"
        elif category == "责令停产停业":
            content = "责令停产整治"
        else:
            content = "吊销排污许可证"
            licence = f"排污许可证（证书编号：{entity.uscc}001V）" if entity.uscc else "排污许可证"
        # Publicity periods (domain.md): minor 3 months, general 1 year, serious 3 years.
        days = {"警告": 92, "罚款": 365}.get(category, 3 * 365)
        until = (decided + timedelta(days=days)).isoformat()
        if person:
            kind_label = "自然人"
            code, org, rep = "", "", ""
            id_type = "身份证"
            id_number = noise.resident_id(entity.resident_id or "")
            if not id_number:
                id_type = ""
        else:
            kind_label = (
                "个体工商户"
                if entity.kind is EntityKind.INDIVIDUAL_BUSINESS
                else "法人及非法人组织"
            )
            variant, code = self._party_code(entity, _PENALTY_CODES)
            org = ""
            if entity.org_code is not None and (
                variant == "org_code" or (entity.registration_number and rng.random() < 0.2)
            ):
                org = f"{entity.org_code[:8]}-{entity.org_code[8]}"
            if variant == "org_code":
                code = ""
            rep = noise.legal_rep(entity)
            id_type, id_number = "", ""
        facts = (
            f"经查，当事人于{found.year}年{found.month}月{found.day}日"
            f"被发现存在{violation.act}的违法行为。"
        )
        row = [
            noise.name(entity),
            kind_label,
            code,
            org,
            rep,
            id_type,
            id_number,
            "",  # CF_XZCFJDSWH, numbered when written
            violation.act,
            facts,
            violation.basis,
            category,
            content,
            fine,
            confiscated,
            licence,
            decided.isoformat(),
            until,
            until,
            _EPB_NAME,
            _EPB_USCC,
            _EPB_NAME,
            _EPB_USCC,
            "当事人已履行完毕" if rng.random() < 0.1 else "",
        ]
        return row, decided

    def _customs_row(self, entity: SyntheticEntity) -> tuple[list[Any], str]:
        code = self._party_code(entity, _CUSTOMS_CODES)[1]
        rated = _random_date(self.rng, date(2018, 1, 1), AS_OF)
        if entity.established is not None and rated < entity.established:
            rated = _random_date(self.rng, min(entity.established, AS_OF), AS_OF)
        level = _CUSTOMS_LEVELS.pick(self.rng)
        return [self.noise.name(entity), code, "", level, rated], entity.district.code[:4]

    def _court_record(self, entity: SyntheticEntity) -> tuple[dict[str, Any], str, int]:
        rng = self.rng
        district = entity.district
        listed = _random_date(rng, date(2019, 1, 1), AS_OF - timedelta(days=10))
        removed: date | None = None
        if rng.random() < 0.15:
            candidate = listed + timedelta(days=rng.randint(30, 900))
            removed = candidate if candidate <= AS_OF else None
        changed = removed or listed + timedelta(days=rng.randint(0, 3))
        if entity.kind is EntityKind.NATURAL_PERSON:
            party_type = "自然人"
            # Public lists never show a whole resident number; some keep the birth date.
            id_number = _mask(entity.resident_id or "", keep_birth=rng.random() < 0.2)
            legal_rep: str | None = None
        else:
            party_type = "法人或其他组织"
            id_number = self._party_code(entity, _COURT_CODES)[1]
            legal_rep = self.noise.legal_rep(entity) or None
        record = {
            "case_number": "",  # numbered when written
            "name": self.noise.name(entity),
            "party_type": party_type,
            "id_number": id_number,
            "legal_rep": legal_rep,
            "court": f"{district.city}{district.name}人民法院",
            "listed_on": listed.isoformat(),
            "reason": rng.choice(vocab.COURT_REASONS),
            "removed_on": removed.isoformat() if removed else None,
            "updated_at": _utc_stamp(rng, min(changed, AS_OF)),
        }
        # Enforcement cases are filed the year before listing or in the same year.
        filed = listed.year - (1 if rng.random() < 0.3 else 0)
        return record, f"{district.court_abbr}{district.code[2:]}", filed

    def _hrss_row(self, entity: SyntheticEntity) -> list[Any]:
        rng = self.rng
        code = self._party_code(entity, _HRSS_CODES)[1]
        listed = _random_date(rng, date(2021, 1, 1), AS_OF - timedelta(days=5))
        district = entity.district
        authority = (
            f"北京市{district.name}人力资源和社会保障局"
            if district.city == "北京市" and rng.random() < 0.6
            else _HRSS_NAME
        )
        return [
            None,  # seq_id, numbered when written
            self.noise.name(entity),
            code,
            self.noise.legal_rep(entity),
            listed.isoformat(),
            rng.choice(vocab.HRSS_REASONS),
            authority,
            _utc_stamp(rng, listed + timedelta(days=rng.randint(0, 5))),
        ]

    # ----------------------------------------------------------------- output

    def write(
        self, entities: Iterator[SyntheticEntity], progress: Callable[[int], None] | None
    ) -> int:
        out = self.out_dir
        drops = out / "drops"
        registry_path = drops / FEED_REGISTRY / f"registry_{AS_OF:%Y%m%d}.csv"
        tax_paths = {y: drops / FEED_TAX / f"grades_{y}.jsonl" for y in TAX_YEARS}
        penalty_paths = {
            m: drops / FEED_PENALTIES / f"penalties_{m[0]}{m[1]:02d}.csv" for m in PENALTY_MONTHS
        }
        customs_path = (
            drops / FEED_CUSTOMS / f"customs_credit_{CUSTOMS_MONTH[0]}{CUSTOMS_MONTH[1]:02d}.xlsx"
        )
        court_path = out / "http" / f"{FEED_COURT}.jsonl"
        hrss_path = out / "exchange" / "hrss.sqlite3"
        truth_path = out / "ground_truth.csv"
        for path in (registry_path, *tax_paths.values(), *penalty_paths.values(), customs_path):
            path.parent.mkdir(parents=True, exist_ok=True)
        court_path.parent.mkdir(parents=True, exist_ok=True)
        hrss_path.parent.mkdir(parents=True, exist_ok=True)

        self.files[FEED_REGISTRY] = [registry_path]
        self.files[FEED_TAX] = list(tax_paths.values())
        self.files[FEED_PENALTIES] = list(penalty_paths.values())
        self.files[FEED_CUSTOMS] = [customs_path]
        self.files[FEED_COURT] = [court_path]
        self.files[FEED_HRSS] = [hrss_path]
        self.truth_path = truth_path

        count = 0
        with ExitStack() as stack:

            def text(path: Path, encoding: str) -> TextIO:
                return stack.enter_context(path.open("w", encoding=encoding, newline=""))

            # Real Excel exports carry a BOM and CRLF line ends.
            registry = csv.writer(text(registry_path, "utf-8-sig"))
            registry.writerow(REGISTRY_COLUMNS)
            tax = {y: text(p, "utf-8") for y, p in tax_paths.items()}
            penalties = {}
            for month, path in penalty_paths.items():
                penalties[month] = csv.writer(text(path, "gbk"))
                penalties[month].writerow(PENALTY_COLUMNS)
            court = text(court_path, "utf-8")
            truth = csv.writer(text(truth_path, "utf-8"), lineterminator="\n")
            truth.writerow(GROUND_TRUTH_COLUMNS)

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("海关企业信用等级")
            sheet.append(list(CUSTOMS_COLUMNS))

            hrss_path.unlink(missing_ok=True)
            hrss = sqlite3.connect(hrss_path)
            stack.callback(hrss.close)
            hrss.execute(
                "CREATE TABLE arrears_blacklist (seq_id INTEGER PRIMARY KEY, party_name TEXT, "
                "uscc TEXT, legal_rep TEXT, listed_on TEXT, reason TEXT, authority TEXT, "
                "updated_at TEXT)"
            )

            chunk = 0
            buffers = _Buffers()
            for entity in entities:
                self.plan(entity, buffers)
                chunk += 1
                if chunk == _CHUNK:
                    self._flush(buffers, registry, tax, penalties, sheet, court, hrss, truth)
                    count += chunk
                    if progress is not None:
                        progress(chunk)
                    chunk = 0
                    buffers = _Buffers()
            self._flush(buffers, registry, tax, penalties, sheet, court, hrss, truth)
            count += chunk
            hrss.commit()
            workbook.save(customs_path)
            if progress is not None and chunk:
                progress(chunk)
        _normalise_xlsx(customs_path)
        return count

    def _serial(self, serials: dict[_K, int], key: _K, first_max: int, step_max: int) -> int:
        """The next document number of a series: increasing, unique, with gaps.

        Other parties' documents are numbered in the same series, so a department's numbers
        neither start at 1 nor come without gaps.
        """
        serial = serials.get(key)
        serial = (
            self.rng.randint(1, first_max)
            if serial is None
            else serial + self.rng.randint(1, step_max)
        )
        serials[key] = serial
        return serial

    def _flush(
        self,
        buffers: _Buffers,
        registry: Any,
        tax: dict[int, TextIO],
        penalties: dict[tuple[int, int], Any],
        sheet: Any,
        court: TextIO,
        hrss: sqlite3.Connection,
        truth: Any,
    ) -> None:
        rng = self.rng
        # Shuffle so that neither file order nor the numbers handed out here follow the order
        # entities were generated in.
        rng.shuffle(buffers.registry)
        rng.shuffle(buffers.tax)
        rng.shuffle(buffers.penalties)
        rng.shuffle(buffers.customs)
        rng.shuffle(buffers.court)
        rng.shuffle(buffers.hrss)

        for entity_key, row in buffers.registry:
            self._reg_serial += 1
            row[0] = f"SAMR-{self._reg_serial:06d}"
            registry.writerow(row)
            truth.writerow((FEED_REGISTRY, row[0], entity_key))
        self.records[FEED_REGISTRY] += len(buffers.registry)

        for entity_key, record in buffers.tax:
            tax[record["year"]].write(json.dumps(record, ensure_ascii=False) + "\n")
            truth.writerow((FEED_TAX, f"{record['taxpayer_id']}+{record['year']}", entity_key))
        self.records[FEED_TAX] += len(buffers.tax)

        for entity_key, row, decided in buffers.penalties:
            serial = self._serial(self._decision_serials, decided.year, 300, 9)
            row[7] = f"京环罚〔{decided.year}〕{serial}号"
            penalties[(decided.year, decided.month)].writerow(row)
            truth.writerow((FEED_PENALTIES, row[7], entity_key))
        self.records[FEED_PENALTIES] += len(buffers.penalties)

        for entity_key, values, prefix in buffers.customs:
            values[2] = f"{prefix}{self._customs_codes.next():06d}"
            # A datetime.date cell gets openpyxl's "yyyy-mm-dd" number format: a real date.
            sheet.append(values)
            truth.writerow((FEED_CUSTOMS, values[2], entity_key))
        self.records[FEED_CUSTOMS] += len(buffers.customs)

        for entity_key, record, court_code, year in buffers.court:
            serial = self._serial(self._case_serials, (year, court_code), 20_000, 40)
            record["case_number"] = f"（{year}）{court_code}执{serial}号"
            court.write(json.dumps(record, ensure_ascii=False) + "\n")
            truth.writerow((FEED_COURT, record["case_number"], entity_key))
        self.records[FEED_COURT] += len(buffers.court)

        rows = []
        for entity_key, row in buffers.hrss:
            self._hrss_serial += 1
            row[0] = self._hrss_serial
            rows.append(row)
            truth.writerow((FEED_HRSS, str(row[0]), entity_key))
        hrss.executemany("INSERT INTO arrears_blacklist VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.records[FEED_HRSS] += len(rows)


_MODIFIED = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _normalise_xlsx(path: Path) -> None:
    """Pin the timestamps openpyxl puts into the package, so one seed gives one file."""
    stamp = datetime(*_XLSX_STAMP).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_XLSX_STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, data)
    path.write_bytes(buffer.getvalue())


# --------------------------------------------------------------------------- entry point


def generate_feeds(
    *,
    entities: int,
    out_dir: Path,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Write the six synthetic feeds and ``ground_truth.csv`` for ``entities`` entities.

    Files (relative to ``out_dir``) are overwritten: ``drops/samr-registry/registry_20260331.csv``
    (UTF-8 with BOM), ``drops/tax-credit-grades/grades_2024.jsonl`` and ``grades_2025.jsonl``,
    ``drops/env-penalties/penalties_202510.csv`` … ``penalties_202603.csv`` (GBK),
    ``drops/customs-credit/customs_credit_202603.xlsx``,
    ``http/court-dishonest-debtors.jsonl``, ``exchange/hrss.sqlite3`` and ``ground_truth.csv``.
    ``progress`` is called with the number of entities just finished (an increment, as
    ``click.progressbar.update`` takes it).
    """
    if entities < 1:
        raise ValueError("entities must be at least 1")
    out_dir = Path(out_dir)
    population = _Population(seed)
    kinds: Counter[str] = Counter()

    def counted() -> Iterator[SyntheticEntity]:
        for entity in population.entities(entities):
            kinds[entity.kind.value] += 1
            if entity.is_branch:
                kinds["branch"] += 1
            yield entity

    writer = _FeedWriter(out_dir, seed)
    writer.write(counted(), progress)
    return GenerationSummary(
        entities=entities,
        seed=seed,
        kinds={k: kinds[k] for k in (*(kind.value for kind in EntityKind), "branch")},
        records={feed: writer.records[feed] for feed in FEEDS},
        files={feed: tuple(paths) for feed, paths in writer.files.items()},
        ground_truth=writer.truth_path,
    )
