"""Who may see what: record visibility by the feed's sharing type, and masking of personal data.

Visibility (domain.md, "Sharing"):
- unconditional feeds: every government role (regulator, department, analyst);
- conditional feeds: the roles named in ``sharing_conditions.roles`` (default: regulators) and
  the departments named in ``sharing_conditions.departments``;
- not-shared feeds: their own department only (others see them in aggregates alone);
- the public: no feed directly; public endpoints show published records of unconditional feeds.

Masking: only regulators see full ID numbers and phone numbers; departments and analysts see
their ends (``matching.personal_numbers``); the public also sees natural persons' names masked
and no resident id digits at all (:func:`mask_level`).
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from core.models import ApiClient, Department, Feed, Role, SharingType
from matching.personal_numbers import MaskLevel, mask_personal_numbers

# Roles that see personal identifiers in full.
FULL_IDENTIFIER_ROLES = frozenset({Role.REGULATOR})
# Roles that may search by a full resident id number (app.entities.search_guard says why).
RESIDENT_ID_SEARCH_ROLES = frozenset({Role.REGULATOR, Role.DEPARTMENT})


class FeedSharing(NamedTuple):
    """What :func:`feed_visible` reads of a feed (a ``Feed`` has the same attributes)."""

    id: int
    department_id: int
    sharing_type: SharingType
    sharing_conditions: dict[str, Any] | None


@functools.cache
def _sharing_terms() -> Any:
    # Every request of a government caller reads these: only the columns the rule needs (not
    # the feeds' mappings and schedules), in a statement built once per process.
    return select(Feed.id, Feed.department_id, Feed.sharing_type, Feed.sharing_conditions)


def visible_feed_ids(*, session: Session, client: ApiClient | None) -> set[int]:
    """Ids of the feeds whose records ``client`` may see one by one."""
    return visible_and_all_feed_ids(session=session, client=client)[0]


def visible_and_all_feed_ids(
    *, session: Session, client: ApiClient | None
) -> tuple[set[int], set[int]]:
    """:func:`visible_feed_ids` and the ids of every feed, from the same one query (a caller
    who sees every feed has nothing hidden from it: ``app.entities.existence``)."""
    role = client.role if client else Role.PUBLIC
    department_code = None
    if client is not None and client.department_id is not None:
        department_code = session.scalar(
            select(Department.code).where(Department.id == client.department_id)
        )
    visible, every = set(), set()
    for row in session.execute(_sharing_terms()):
        feed = FeedSharing(*row)
        every.add(feed.id)
        if feed_visible(
            feed,
            role=role,
            department_id=client.department_id if client else None,
            department_code=department_code,
        ):
            visible.add(feed.id)
    return visible, every


def feed_visible(
    feed: Feed | FeedSharing, *, role: Role, department_id: int | None, department_code: str | None
) -> bool:
    if role is Role.PUBLIC:
        return feed.sharing_type is SharingType.UNCONDITIONAL
    if department_id is not None and feed.department_id == department_id:
        return True
    if feed.sharing_type is SharingType.UNCONDITIONAL:
        return True
    if feed.sharing_type is SharingType.CONDITIONAL:
        conditions = feed.sharing_conditions or {}
        roles = conditions.get("roles") or [Role.REGULATOR.value]
        departments = conditions.get("departments") or []
        return role.value in roles or (
            department_code is not None and department_code in departments
        )
    return False


def sees_full_identifiers(role: Role) -> bool:
    return role in FULL_IDENTIFIER_ROLES


def may_search_by_resident_id(role: Role) -> bool:
    return role in RESIDENT_ID_SEARCH_ROLES


def mask_level(role: Role) -> MaskLevel:
    """How much of personal numbers ``role`` sees: all (regulators), their ends (departments,
    analysts), or no resident id digits at all (the public)."""
    if sees_full_identifiers(role):
        return MaskLevel.NONE
    return MaskLevel.PUBLIC if role is Role.PUBLIC else MaskLevel.PARTIAL


def mask_for_role(text: str, role: Role) -> str:
    """``text`` with every personal number masked as ``role`` may see it."""
    return mask_personal_numbers(text, mask_level(role))


def mask_person_name(name: str) -> str:
    """``张三`` -> ``张*``: the public may see who is listed only as much as the lists publish."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def mask_personal_text(text: str) -> str:
    """Every resident id, mobile and landline number in ``text`` masked for a government role
    without full identifiers (``matching.personal_numbers``, level ``PARTIAL``)."""
    return mask_personal_numbers(text, MaskLevel.PARTIAL)


def is_resident_id(value: str) -> bool:
    """``stdnum.cn.ric.is_valid`` with its slow part, the birth-place look-up in the division
    gazetteer (about 0.3 ms), cached per (division, birth year): bulk exports mask the same
    regions over and over."""
    # Callers pass a bare code (no spaces or dashes), so only the case needs compacting; ric's
    # own compact() costs more than the rest of the check.
    number = value.strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if number[-1] != ric.calc_check_digit(number):
        return False
    # ric.get_birth_date's own test, without its compact().
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _birth_place_known(number[:6], born.year)


@functools.lru_cache(maxsize=65536)
def _birth_place_known(division: str, year: int) -> bool:
    # Only the division and the year matter to get_birth_place; the rest is a valid filler.
    try:
        ric.get_birth_place(f"{division}{year:04d}01010000")
    except ValidationError:
        return False
    return True


def scrub(value: Any, level: MaskLevel = MaskLevel.PARTIAL) -> Any:
    """``mask_personal_numbers`` at ``level`` applied to every string inside a JSON-like
    value."""
    if isinstance(value, str):
        return mask_personal_numbers(value, level)
    if isinstance(value, dict):
        return {k: scrub(v, level) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, level) for v in value]
    if type(value) is tuple:
        return tuple(scrub(v, level) for v in value)
    return value
