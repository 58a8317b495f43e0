"""What the matcher takes in (:class:`MatchRecord`) and the normalised form it compares
(:class:`Prepared`), computed once per record.

Identifiers go through :mod:`matching.identifiers`; codes of no Chinese scheme become generic
``OTHER`` codes compared by value, so the matcher also works on non-Chinese data.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from .identifier_types import IdentifierKind, clean_code
from .identifiers import org_code_of, parse_identifier
from .normalise import (
    Address,
    CompanyName,
    normalise_address,
    normalise_company_name,
    normalise_person_name,
)
from .org_codes import org_code_of_identifier
from .resident_ids import (
    GENDER_WORDS,
    MaskedId,
    gender_key,
    looks_like_resident_id,
    masked_id_sex,
    parse_masked_id,
    resident_id_sex,
)

__all__ = [
    "KINDS",
    "MatchRecord",
    "Prepared",
    "city_of",
    "latin_tokens",
    "prepare",
    "valid_usccs",
]

KINDS = ("legal_entity", "individual_business", "natural_person", "other_organization")
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_PERSON_ID_LENGTHS = (15, 18)
_DATE_RE = re.compile(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
_LATIN_WORD_RE = re.compile(r"[A-Z]+")


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One record to resolve. ``kind`` is one of :data:`KINDS` or None (unknown); ``codes``
    holds any identifiers (USCC, old codes, resident numbers, masked numbers, foreign codes);
    ``gender`` is a person's as given (``M`` / ``F``, ``男`` / ``女``, ``1`` / ``2``)."""

    record_id: str
    name: str = ""
    kind: str | None = None
    codes: tuple[str, ...] = ()
    legal_rep: str | None = None
    address: str | None = None
    birth_date: date | str | None = None
    postcode: str | None = None
    phone: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """Normalised values of one record. ``flagged`` holds the cleaned values of codes that fail
    their check (the same typo in two records still points at one party). A person's
    ``birth_date`` and ``gender`` (``M`` / ``F``) are read from a valid resident id first,
    then from a masked one, then taken as given."""

    record_id: str
    kind: str | None
    is_person: bool
    raw_name: str
    person_name: str
    company: CompanyName
    usccs: frozenset[str]
    org_codes: frozenset[str]
    resident_ids: frozenset[str]
    masked: tuple[MaskedId, ...]
    registration_numbers: frozenset[str]
    others: frozenset[str]
    flagged: frozenset[str]
    legal_rep: str
    address: Address
    birth_date: date | None
    postcode: str
    phone: str
    # Upper-case words of a name written in Latin letters ("JOHN", "SMITH"); () otherwise.
    latin_tokens: tuple[str, ...] = ()
    gender: str | None = None
    # Flagged codes shaped like an 18-character resident id (a mistyped number: one digit
    # changed or two swapped fails its check), compared as near-misses of a valid id.
    flagged_residents: frozenset[str] = frozenset()
    # A company's region at city level (<= 4 digits): from its name, else its USCC's division,
    # else its address; "" when none says (matching.compare.compare_region).
    region: str = ""
    # The birth date was read from a mistyped id alone: where it differs, the typo may be in it.
    birth_from_typo: bool = False

    @property
    def name_key(self) -> str:
        """The name blocking and exact comparison use."""
        return self.person_name if self.is_person else self.company.core

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Unpickled (records prepared by a worker process), every empty code set would be an
        # object of its own, six a record: share the one empty set again (600 MB at a million).
        return _unpickled, tuple(getattr(self, f) for f in _PREPARED_FIELDS)


# ``frozenset(set())`` is a new object of about 200 bytes each time; most records have no
# code of most kinds, so they all share this one (a gigabyte at a million records).
_NO_CODES: frozenset[str] = frozenset()


def _codes(values: set[str]) -> frozenset[str]:
    return frozenset(values) if values else _NO_CODES


_PREPARED_FIELDS = tuple(f.name for f in dataclasses.fields(Prepared))


def _unpickled(*values: Any) -> Prepared:
    shared: list[Any] = [_NO_CODES if isinstance(v, frozenset) and not v else v for v in values]
    return Prepared(*shared)


def city_of(division: str) -> str:
    """A division code cut to its city (``440106`` -> ``4401``, ``110000`` -> ``11``): records
    of one company name districts of one city (its registry, its office) interchangeably."""
    code = division[:4]
    while code.endswith("00"):
        code = code[:-2]
    return code


def _id_shaped(value: str) -> bool:
    """An 18-character resident id's shape, whatever its date and checks say (a person's
    mistyped id: the typo may have broken the date)."""
    return len(value) == 18 and value[:17].isdigit() and value[17] in "0123456789X"


def _company_region(company: CompanyName, usccs: frozenset[str], address: Address) -> str:
    if company.region:
        return city_of(company.region)
    for code in sorted(usccs):
        # Characters 3-8 of a USCC are the registering authority's division.
        if code[2:8].isdigit():
            return city_of(code[2:8])
    return city_of(address.region)


def _digits(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def latin_tokens(name: str | None) -> tuple[str, ...]:
    """The words of a name written in Latin letters, upper case, accents dropped
    (``"José  O'Neil"`` gives ``("JOSE", "ONEIL")``); () for names in any other script."""
    if not name:
        return ()
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if not text.isascii():
        return ()
    words = re.split(r"[\s,;/]+", text.upper())
    return tuple(w for w in ("".join(_LATIN_WORD_RE.findall(word)) for word in words) if w)


def _parse_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    match = _DATE_RE.search(unicodedata.normalize("NFKC", value))
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _gender(value: str | None) -> str | None:
    return GENDER_WORDS.get(gender_key(value)) if value else None


# (category, cleaned value, organization code, birth date, masked id) of one code.
_CodeFacts = tuple[str, str, str | None, date | None, MaskedId | None]


@functools.lru_cache(maxsize=1 << 18)
def _read_code(raw: str, person_kind: bool) -> _CodeFacts | None:
    """What :func:`prepare` takes from one raw code; None for an empty one. Cached per
    distinct code, since the records of one party repeat its codes across feeds (and classifying
    a code costs several checks). ``category``: masked, flagged, uscc, resident, registration,
    other, or "" (a valid old code that only contributes its organization code)."""
    value = clean_code(raw)
    if not value:
        return None
    hint = None
    if person_kind and "*" not in value and len(value) in _PERSON_ID_LENGTHS:
        # The party type says it is an ID number: do not read it as a company code.
        hint = IdentifierKind.RESIDENT_ID
    ident = parse_identifier(value, hint)
    kind = ident.kind
    if kind is IdentifierKind.MASKED_ID:
        mask = parse_masked_id(value)
        return None if mask is None else ("masked", value, None, mask.birth_date, mask)
    category = ""
    if not ident.valid:
        category = "flagged"
    elif kind is IdentifierKind.USCC:
        category = "uscc"
    elif kind in (IdentifierKind.RESIDENT_ID, IdentifierKind.RESIDENT_ID_15):
        category = "resident"
    elif kind is IdentifierKind.REGISTRATION_NUMBER:
        category = "registration"
    elif kind is IdentifierKind.OTHER:
        category = "other"
    org = None
    if kind in (IdentifierKind.USCC, IdentifierKind.ORG_CODE, IdentifierKind.TAXPAYER_NUMBER):
        org = org_code_of_identifier(ident)
    elif IdentifierKind.TAXPAYER_NUMBER in ident.alternatives:
        org = org_code_of(ident.value)
    return category, ident.value, org, ident.birth_date, None


def valid_usccs(codes: Iterable[str], *, person: bool) -> frozenset[str]:
    """The valid USCCs :func:`prepare` finds among ``codes`` (``Prepared.usccs``; ``person``:
    the record is a natural person's), without the rest of its work."""
    found = set()
    for raw in codes:
        facts = _read_code(raw, person)
        if facts is not None and facts[0] == "uscc":
            found.add(facts[1])
    return _codes(found)


def _mistyped_ids(flagged: set[str], person_kind: bool) -> tuple[frozenset[str], date | None]:
    """The flagged codes shaped like a resident id (mistyped ones; of a person's record any
    date, since the typo may be in it) and the first birth date one of them shows."""
    found: set[str] = set()
    birth: date | None = None
    for value in sorted(flagged):
        if looks_like_resident_id(value) or (person_kind and _id_shaped(value)):
            found.add(value)
            facts = _read_code(value, person_kind)
            birth = birth or (facts[3] if facts is not None else None)
    return _codes(found), birth


def _birth(
    id_birth: date | None, mask_birth: date | None, given: date | str | None, typo: date | None
) -> tuple[date | None, bool]:
    """The birth date by authority (valid id, masked id, as given, a mistyped id) and whether
    it came from the mistyped id: last, since its typo may sit in the date digits."""
    birth = id_birth or mask_birth or _parse_date(given)
    if birth is None and typo is not None:
        return typo, True
    return birth, False


def prepare(record: MatchRecord) -> Prepared:
    """Normalise a record once. Bad codes are kept as ``flagged``; nothing raises."""
    usccs: set[str] = set()
    orgs: set[str] = set()
    residents: set[str] = set()
    masked: list[MaskedId] = []
    registrations: set[str] = set()
    others: set[str] = set()
    flagged: set[str] = set()
    # Birth date and sex from a valid id (its check digit vouches for them), else a masked
    # one, else as given: what the record says next to its id cannot overrule the id.
    id_birth: date | None = None
    id_sex: str | None = None
    mask_birth: date | None = None
    mask_sex: str | None = None
    person_kind = record.kind == "natural_person"
    for raw in record.codes:
        facts = _read_code(raw, person_kind)
        if facts is None:
            continue
        category, value, org, code_birth, mask = facts
        if mask is not None:
            masked.append(mask)
            mask_birth = mask_birth or mask.birth_date
            mask_sex = mask_sex or masked_id_sex(mask)
            continue
        if category == "flagged":
            flagged.add(value)
        elif category == "uscc":
            usccs.add(value)
        elif category == "resident":
            residents.add(value)
            id_birth = id_birth or code_birth
            id_sex = id_sex or resident_id_sex(value)
        elif category == "registration":
            registrations.add(value)
        elif category == "other":
            others.add(value)
        if org:
            orgs.add(org)
    given_gender = _gender(record.gender)
    flagged_residents, flagged_birth = _mistyped_ids(flagged, person_kind)
    # Of unknown kind, a record with a person's id or a gender is a person's.
    is_person = person_kind or (
        record.kind is None
        and bool(residents or masked or flagged_residents or given_gender)
        and not (usccs or orgs)
    )
    birth, birth_from_typo = _birth(id_birth, mask_birth, record.birth_date, flagged_birth)
    name = record.name or ""
    company = normalise_company_name("" if is_person else name)
    address = normalise_address(record.address)
    frozen_usccs = _codes(usccs)
    return Prepared(
        record_id=record.record_id,
        kind=record.kind,
        is_person=is_person,
        raw_name=name,
        # A company's cleaned full name is exactly what normalise_person_name would give:
        # share the string instead of computing and keeping a second copy.
        person_name=normalise_person_name(name) if is_person else company.full,
        company=company,
        usccs=frozen_usccs,
        org_codes=_codes(orgs),
        resident_ids=_codes(residents),
        masked=tuple(masked),
        registration_numbers=_codes(registrations),
        others=_codes(others),
        flagged=_codes(flagged),
        legal_rep=normalise_person_name(record.legal_rep),
        address=address,
        birth_date=birth,
        postcode=_digits(record.postcode),
        phone=_digits(record.phone)[-11:],
        latin_tokens=latin_tokens(name) if is_person else (),
        gender=(id_sex or mask_sex or given_gender) if is_person else None,
        flagged_residents=flagged_residents if is_person else _NO_CODES,
        region="" if is_person else _company_region(company, frozen_usccs, address),
        birth_from_typo=birth_from_typo,
    )
