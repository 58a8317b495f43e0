"""Comparators: pure functions ``(a: Prepared, b: Prepared) -> Comparison``.

Each returns the field compared, a score in 0..1 (None when a side lacks the field), a level
the scoring model weighs, and a ``why`` a regulator can read. String similarity is rapidfuzz's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from .normalise import CompanyName, pinyin, region_compatible, same_legal_form, sound_alike
from .person_names import is_common_person_name
from .records import Prepared
from .resident_ids import MaskedId, masked_id_compatible

__all__ = [
    "COMPARATORS",
    "Comparison",
    "compare_address",
    "compare_birth_date",
    "compare_gender",
    "compare_identifiers",
    "compare_legal_rep",
    "compare_name",
    "compare_phone",
    "compare_postcode",
    "compare_region",
]

# Levels every comparator may return; "conflict" and "branch_vs_parent" trigger hard rules.
MISSING = "missing"
EXACT = "exact"
HIGH = "high"
PARTIAL = "partial"
DIFFERENT = "different"
CONFLICT = "conflict"
# A resident id one typo away from the other side's (one fails its check digit).
NEAR_ID = "near_id"
# Names (or trade names) that differ in one character of the same sound.
HOMOPHONE = "homophone"
TRADE_HOMOPHONE = "trade_homophone"
TRADE_TYPO = "trade_typo"
# The same for a two-character trade name: one character in two is weaker evidence.
TRADE_TYPO_SHORT = "trade_typo_short"


class Comparison(NamedTuple):
    """One comparison of a pair. A named tuple, not a frozen dataclass: every candidate pair
    makes nine, and a frozen dataclass's ``__init__`` (``object.__setattr__`` a field) was
    a third of the time spent comparing."""

    field: str
    level: str
    score: float | None
    why: str

    def to_dict(self) -> dict[str, object]:
        return {"field": self.field, "level": self.level, "score": self.score, "why": self.why}


def _first(values: frozenset[str]) -> str:
    return min(values)


# --------------------------------------------------------------------------- identifiers


def _masked_pair(a: MaskedId, b: MaskedId) -> tuple[int, bool]:
    """(visible positions both show and agree on, whether any shown position disagrees)."""
    if a.length != b.length:
        same_region = a.region is not None and a.region == b.region
        same_tail = a.tail is not None and a.tail == b.tail
        clash = (a.region is not None and b.region is not None and a.region != b.region) or (
            a.tail is not None and b.tail is not None and a.tail != b.tail
        )
        return (6 if same_region else 0) + (4 if same_tail else 0), clash
    agree = 0
    for x, y in zip(a.pattern, b.pattern, strict=True):
        if x == "*" or y == "*":
            continue
        if x != y:
            return agree, True
        agree += 1
    return agree, False


_TYPO_KINDS = {"swap": "two neighbouring characters swapped", "check": "check character differs"}


def _id_typo(x: str, y: str) -> str | None:
    """How two 18-character ids one typo apart differ ("swap", "check", "digit"); None when
    they are not one substitution or one swap of neighbours apart."""
    if len(x) != len(y) or x == y or OSA.distance(x, y, score_cutoff=1) > 1:
        return None
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) == 2:
        return "swap"
    return "check" if diff[0] == len(x) - 1 else "digit"


def _near_resident(a: Prepared, b: Prepared) -> Comparison | None:
    """A resident id of one side one typo away from one of the other side's, at least one of
    the two failing its check (two valid ids are never one typo apart: MOD 11-2 catches every
    single substitution and swap, so a valid pair is a conflict, decided before this)."""
    for mine, theirs in (
        (a.resident_ids | a.flagged_residents, b.flagged_residents),
        (a.flagged_residents, b.resident_ids),
    ):
        for x in mine:
            for y in theirs:
                typo = _id_typo(x, y)
                if typo is not None:
                    how = _TYPO_KINDS.get(typo, "one digit differs")
                    why = f"resident ids {x} / {y} one typo apart ({how}; one fails its check)"
                    return Comparison("identifiers", NEAR_ID, 0.8, why)
    return None


def _masked_fit(a: Prepared, b: Prepared) -> Comparison | None:
    """A full id of one side (valid, or else a mistyped one) against the other's masked ids."""
    field = "identifiers"
    for full_side, mask_side in ((a, b), (b, a)):
        masks = mask_side.masked
        numbers = full_side.resident_ids or full_side.flagged_residents
        if not masks or not numbers:
            continue
        number = _first(numbers)
        if any(masked_id_compatible(number, m) for m in masks):
            return Comparison(field, "masked", 0.9, f"masked id {masks[0].pattern} fits {number}")
        if full_side.resident_ids:
            why = f"masked id {masks[0].pattern} does not fit {number}"
            return Comparison(field, DIFFERENT, 0.0, why)
        # A mistyped id that does not fit says nothing: the typo may be in a shown digit.
    return None


def _compare_person_ids(a: Prepared, b: Prepared) -> Comparison | None:
    field = "identifiers"
    if a.resident_ids and b.resident_ids:
        shared = a.resident_ids & b.resident_ids
        if shared:
            return Comparison(field, EXACT, 1.0, f"same resident id {_first(shared)}")
        return Comparison(
            field,
            CONFLICT,
            0.0,
            f"different valid resident ids ({_first(a.resident_ids)} vs {_first(b.resident_ids)})",
        )
    near = _near_resident(a, b) if a.flagged_residents or b.flagged_residents else None
    if near is not None:
        return near
    fit = _masked_fit(a, b)
    if fit is not None:
        return fit
    if a.masked and b.masked:
        best = -1
        for x in a.masked:
            for y in b.masked:
                agree, clash = _masked_pair(x, y)
                if not clash:
                    best = max(best, agree)
        pair = f"{a.masked[0].pattern} / {b.masked[0].pattern}"
        if best < 0:
            return Comparison(field, DIFFERENT, 0.0, f"masked ids disagree ({pair})")
        if best >= 10:
            return Comparison(field, "masked", 0.85, f"masked ids agree on {best} chars ({pair})")
        return Comparison(field, "masked_weak", 0.5, f"masked ids share only the region ({pair})")
    return None


def _near_code(mine: frozenset[str], theirs: frozenset[str]) -> tuple[str, str] | None:
    """Two other codes one typo apart (one character changed, added, dropped, or two
    neighbours swapped), both at least 5 characters long."""
    for x in mine:
        for y in theirs:
            if min(len(x), len(y)) >= 5 and OSA.distance(x, y, score_cutoff=1) <= 1:
                return x, y
    return None


def compare_identifiers(a: Prepared, b: Prepared) -> Comparison:
    """Strongest identifier evidence: a shared valid code ("exact"), a shared organization
    code of a USCC / old code ("org_code"), a masked id fitting a full one ("masked"), the same
    flagged code ("flagged"), other codes one typo apart ("near"); two different valid USCCs
    or resident ids give "conflict", two different other codes "other_differs"."""
    field = "identifiers"
    if a.usccs and b.usccs:
        shared = a.usccs & b.usccs
        if shared:
            return Comparison(field, EXACT, 1.0, f"same USCC {_first(shared)}")
        return Comparison(
            field,
            CONFLICT,
            0.0,
            f"different valid USCCs ({_first(a.usccs)} vs {_first(b.usccs)})",
        )
    person = _compare_person_ids(a, b)
    if person is not None and person.level in (EXACT, CONFLICT):
        return person
    for mine, theirs, label in (
        (a.registration_numbers, b.registration_numbers, "registration number"),
        (a.others, b.others, "code"),
    ):
        shared = mine & theirs
        if shared:
            return Comparison(field, EXACT, 1.0, f"same {label} {_first(shared)}")
    if a.org_codes & b.org_codes:
        org = _first(a.org_codes & b.org_codes)
        return Comparison(field, "org_code", 0.95, f"same organization code {org[:8]}-{org[8]}")
    if a.flagged & b.flagged:
        code = _first(a.flagged & b.flagged)
        return Comparison(field, "flagged", 0.8, f"same code {code} (fails its check)")
    near = _near_code(a.others, b.others)
    if near is not None:
        return Comparison(field, "near", 0.7, f"codes {near[0]} / {near[1]} differ by one typo")
    if person is not None:
        return person
    if a.org_codes and b.org_codes:
        left, right = _first(a.org_codes), _first(b.org_codes)
        return Comparison(field, DIFFERENT, 0.0, f"codes differ ({left} vs {right})")
    if a.others and b.others:
        # Codes of unknown kind may be of different kinds, or re-issued: weaker evidence.
        left, right = _first(a.others), _first(b.others)
        return Comparison(field, "other_differs", 0.0, f"codes differ ({left} vs {right})")
    if (a.registration_numbers and b.registration_numbers) and not (a.usccs or b.usccs):
        return Comparison(field, DIFFERENT, 0.0, "registration numbers differ")
    return Comparison(field, MISSING, None, "no comparable identifiers")


# --------------------------------------------------------------------------- names


# A party's own name that is among the commonest (matching.person_names): weaker evidence.
EXACT_COMMON = "exact_common"


def _person_level(x: str, y: str, field: str) -> Comparison:
    if not x or not y:
        return Comparison(field, MISSING, None, "name missing")
    if x == y:
        if field == "name" and is_common_person_name(x):
            why = f"same name {x}, one of the commonest names: many people share it"
            return Comparison(field, EXACT_COMMON, 1.0, why)
        return Comparison(field, EXACT, 1.0, f"same name {x}")
    distance = Levenshtein.distance(x, y)
    score = 1.0 - distance / max(len(x), len(y))
    if distance == 1 and sound_alike(x, y):
        # Weak evidence: an input method's wrong pick, or two people of one sounding name.
        return Comparison(field, HOMOPHONE, score, f"names sound the same ({x} / {y})")
    if distance == 1 and x[0] == y[0] and len(x) >= 2:
        return Comparison(field, PARTIAL, score, f"names differ by one character ({x} / {y})")
    return Comparison(field, DIFFERENT, score, f"different names ({x} / {y})")


_JW_SAME = 0.92  # Jaro-Winkler at or above which two Latin words count as the same
_JW_LIKE = 0.8


def _latin_level(x: tuple[str, ...], y: tuple[str, ...], field: str) -> Comparison:
    """Latin-letter person names word by word with Jaro-Winkler, in either order (given name
    and surname get swapped); first and last word stand for given name and surname."""
    shown = f"({' '.join(x)} / {' '.join(y)})"
    if sorted(x) == sorted(y):
        return Comparison(field, EXACT, 1.0, f"same name {' '.join(x)}")
    if len(x) == 1 or len(y) == 1:
        short, long_ = (x, y) if len(x) <= len(y) else (y, x)
        best = max(JaroWinkler.similarity(short[0], word) for word in long_)
        if best >= _JW_SAME:
            return Comparison(field, "one_word", best, f"one name has only one word {shown}")
        return Comparison(field, DIFFERENT, best, f"different names {shown}")
    g1, s1, g2, s2 = x[0], x[-1], y[0], y[-1]
    straight = (JaroWinkler.similarity(g1, g2), JaroWinkler.similarity(s1, s2))
    swapped = (JaroWinkler.similarity(g1, s2), JaroWinkler.similarity(s1, g2))
    pair = max(straight, swapped, key=sum)
    low, high = min(pair), max(pair)
    order = " (given name and surname swapped)" if pair is swapped else ""
    if low >= _JW_SAME:
        return Comparison(field, HIGH, low, f"names alike word by word {shown}{order}")
    if high >= _JW_SAME and low >= _JW_LIKE:
        return Comparison(field, "close", low, f"one word alike, one close {shown}{order}")
    if high >= _JW_SAME:
        return Comparison(field, "one_word", low, f"only one word alike {shown}{order}")
    return Comparison(field, DIFFERENT, low, f"different names {shown}")


def compare_name(a: Prepared, b: Prepared) -> Comparison:
    """Person names character by character; company names on the core (trade name +
    industry), with region, legal form and branch checked separately. A branch against a
    non-branch gives "branch_vs_parent" (a hard rule); the same core in two regions gives
    "region_differs"."""
    field = "name"
    if a.latin_tokens and b.latin_tokens:
        return _latin_level(a.latin_tokens, b.latin_tokens, field)
    if a.is_person or b.is_person:
        return _person_level(a.person_name, b.person_name, field)
    x, y = a.company, b.company
    if not x.core or not y.core:
        return Comparison(field, MISSING, None, "name missing")
    if x.is_branch != y.is_branch:
        branch, head = (x, y) if x.is_branch else (y, x)
        return Comparison(
            field,
            "branch_vs_parent",
            0.0,
            f"{branch.full} is a branch ({branch.branch_place}{branch.branch}), {head.full} is not",
        )
    if x.is_branch and not sound_alike(x.branch_place, y.branch_place):
        return Comparison(
            field,
            DIFFERENT,
            0.0,
            f"different branches ({x.branch_place}{x.branch} / {y.branch_place}{y.branch})",
        )
    score = 1.0 if x.core == y.core else ratio(x.core, y.core) / 100.0
    if not region_compatible(x.region, y.region) and score >= 0.7:
        return Comparison(
            field,
            "region_differs",
            score,
            f"trade name {x.core} / {y.core} but registered in different regions "
            f"({x.region} vs {y.region})",
        )
    if x.core == y.core:
        if same_legal_form(x.legal_form, y.legal_form) or not x.legal_form or not y.legal_form:
            return Comparison(field, EXACT, 1.0, f"same name core {x.core}")
        return Comparison(
            field, HIGH, 0.95, f"same core {x.core}, legal forms {x.legal_form} / {y.legal_form}"
        )
    variant = _trade_variant(x, y)
    if variant == TRADE_HOMOPHONE:
        why = f"trade names {x.trade} / {y.trade} sound the same ({pinyin(x.trade)})"
        return Comparison(field, TRADE_HOMOPHONE, score, why)
    typo_why = f"trade names {x.trade} / {y.trade} one character apart, same industry and form"
    if variant == TRADE_TYPO:
        return Comparison(field, TRADE_TYPO, score, typo_why)
    if score >= 0.85:
        return Comparison(field, HIGH, score, f"similar names {x.core} / {y.core}")
    if variant == TRADE_TYPO_SHORT:
        return Comparison(field, TRADE_TYPO_SHORT, score, typo_why)
    if score >= 0.7:
        return Comparison(field, PARTIAL, score, f"partly similar names {x.core} / {y.core}")
    return Comparison(field, DIFFERENT, score, f"different names {x.core} / {y.core}")


def _trade_variant(x: CompanyName, y: CompanyName) -> str | None:
    """Two names of one industry and legal form whose trade names (two characters or more)
    differ in one character of the same sound ("trade_homophone") or in one typo (a character
    changed, added, dropped, or two neighbours swapped: "trade_typo", or "trade_typo_short"
    when a trade name has two characters only)."""
    if x.industry != y.industry or not same_legal_form(x.legal_form, y.legal_form):
        return None
    s, t = x.trade, y.trade
    if min(len(s), len(t)) < 2 or s == t or OSA.distance(s, t, score_cutoff=1) > 1:
        return None
    if sound_alike(s, t):
        return TRADE_HOMOPHONE
    return TRADE_TYPO if min(len(s), len(t)) >= 3 else TRADE_TYPO_SHORT


# --------------------------------------------------------------------------- other fields


def compare_legal_rep(a: Prepared, b: Prepared) -> Comparison:
    return _person_level(a.legal_rep, b.legal_rep, "legal_rep")


def compare_address(a: Prepared, b: Prepared) -> Comparison:
    """Addresses; two Chinese persons at the same full address (street and number, whatever
    divisions are written) give "exact_home": one home, rarely two people of one name."""
    field = "address"
    x, y = a.address, b.address
    if not x.full or not y.full:
        return Comparison(field, MISSING, None, "address missing")
    home = a.is_person and b.is_person and not (a.latin_tokens and b.latin_tokens)
    compatible = region_compatible(x.region, y.region)
    # A dropped province or city still leaves the same street and number.
    same_street = bool(x.street) and (x.street, x.rest) == (y.street, y.rest)
    if home and (x.full == y.full or (compatible and same_street)):
        return Comparison(field, "exact_home", 1.0, f"same home address {x.street}{x.rest}")
    if x.full == y.full:
        return Comparison(field, EXACT, 1.0, "same address")
    if not compatible:
        return Comparison(field, DIFFERENT, 0.0, f"different districts ({x.region}/{y.region})")
    score = ratio(x.full, y.full) / 100.0
    if x.street and x.street == y.street and x.rest[:3] == y.rest[:3]:
        return Comparison(field, HIGH, max(score, 0.9), f"same street {x.street}")
    if score >= 0.8:
        return Comparison(field, PARTIAL, score, "similar address")
    return Comparison(field, DIFFERENT, score, "different address")


def compare_birth_date(a: Prepared, b: Prepared) -> Comparison:
    field = "birth_date"
    if a.birth_date is None or b.birth_date is None:
        return Comparison(field, MISSING, None, "birth date missing")
    if a.birth_date == b.birth_date:
        return Comparison(field, EXACT, 1.0, f"same birth date {a.birth_date.isoformat()}")
    x, y = a.birth_date, b.birth_date
    if a.birth_from_typo or b.birth_from_typo:
        # The date digits of a mistyped id may hold the typo: no evidence either way.
        return Comparison(field, MISSING, None, f"birth dates {x} / {y}, one from a mistyped id")
    if (x.year, x.month, x.day) == (y.year, y.day, y.month):
        return Comparison(field, "near", 0.5, f"birth dates {x} / {y}: day and month swapped")
    if OSA.distance(f"{x:%Y%m%d}", f"{y:%Y%m%d}", score_cutoff=1) <= 1:
        return Comparison(field, "near", 0.5, f"birth dates {x} / {y} differ by one typo")
    return Comparison(field, DIFFERENT, 0.0, "different birth dates")


_SEXES = {"M": "male", "F": "female"}


def compare_gender(a: Prepared, b: Prepared) -> Comparison:
    """A person's gender, read from a resident id (full or masked) or as the feed gives it."""
    field = "gender"
    if a.gender is None or b.gender is None:
        return Comparison(field, MISSING, None, "gender missing")
    if a.gender == b.gender:
        return Comparison(field, EXACT, 1.0, f"both {_SEXES.get(a.gender, a.gender)}")
    x, y = _SEXES.get(a.gender, a.gender), _SEXES.get(b.gender, b.gender)
    return Comparison(field, DIFFERENT, 0.0, f"one {x}, one {y}")


def _has_code(p: Prepared) -> bool:
    return bool(p.usccs or p.org_codes or p.registration_numbers or p.others or p.flagged)


def compare_region(a: Prepared, b: Prepared) -> Comparison:
    """Two companies' regions at city level, when their names do not both carry one (then
    :func:`compare_name` weighs them): from the name, else the USCC's division, else the
    address. "different": two cities, never the same company by name alone; "unknown": a
    side's region is unknown but a code on one side vouches for a party; "uncorroborated": no
    region and no code on either side (a bare name)."""
    field = "region"
    if a.is_person or b.is_person:
        return Comparison(field, MISSING, None, "not a pair of companies")
    if a.company.region and b.company.region:
        return Comparison(field, MISSING, None, "both names carry their region")
    x, y = a.region, b.region
    if not x or not y:
        if _has_code(a) or _has_code(b):
            return Comparison(field, "unknown", None, "region unknown on one side")
        why = "region unknown and no code on either side: the name is not corroborated"
        return Comparison(field, "uncorroborated", None, why)
    if region_compatible(x, y):
        return Comparison(field, EXACT, 1.0, f"same region ({x} / {y})")
    return Comparison(field, DIFFERENT, 0.0, f"different cities ({x} vs {y})")


def _exact_digits(field: str, x: str, y: str) -> Comparison:
    if not x or not y:
        return Comparison(field, MISSING, None, f"{field} missing")
    if x == y:
        return Comparison(field, EXACT, 1.0, f"same {field}")
    return Comparison(field, DIFFERENT, 0.0, f"different {field}")


def compare_phone(a: Prepared, b: Prepared) -> Comparison:
    return _exact_digits("phone", a.phone, b.phone)


def compare_postcode(a: Prepared, b: Prepared) -> Comparison:
    return _exact_digits("postcode", a.postcode, b.postcode)


COMPARATORS: tuple[Callable[[Prepared, Prepared], Comparison], ...] = (
    compare_identifiers,
    compare_name,
    compare_legal_rep,
    compare_address,
    compare_birth_date,
    compare_phone,
    compare_postcode,
    compare_gender,
    compare_region,
)
