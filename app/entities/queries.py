"""SQL building blocks shared by the entity and public services: visibility, "in force",
effective status and list membership (merged entities: :mod:`resolution.survivors`). Never
commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from core.models import CreditRecord, CreditStatus, Entity, Feed, RecordCategory, SharingType
from core.rules.grading import CUSTOMS_ADVANCED

BLACK = "black"
RED = "red"


def visible_clause(feed_ids: Collection[int]) -> ColumnElement[bool]:
    """Records of the given feeds only (nothing at all when there are none)."""
    if not feed_ids:
        return false()
    return CreditRecord.feed_id.in_(sorted(feed_ids))


def in_force_clause(today: date, record: Any = CreditRecord) -> ColumnElement[bool]:
    """SQL twin of :func:`core.rules.grading.in_force`: change both together."""
    return and_(
        record.status.in_([CreditStatus.ACTIVE, CreditStatus.DISPUTED]),
        or_(record.publicity_end.is_(None), record.publicity_end >= today),
        or_(record.decision_date.is_(None), record.decision_date <= today),
        or_(record.removed_on.is_(None), record.removed_on > today),
    )


def published_clause(today: date) -> ColumnElement[bool]:
    """SQL twin of :func:`core.rules.publicity.is_published` for records of unconditional feeds
    (what the public may see); callers still check ``is_published`` on what they show."""
    unconditional = select(Feed.id).where(Feed.sharing_type == SharingType.UNCONDITIONAL)
    return and_(
        CreditRecord.feed_id.in_(unconditional.scalar_subquery()),
        CreditRecord.category != RecordCategory.REGISTRY,
        CreditRecord.status.in_([CreditStatus.ACTIVE, CreditStatus.DISPUTED]),
        or_(CreditRecord.publicity_end.is_(None), CreditRecord.publicity_end >= today),
        or_(CreditRecord.decision_date.is_(None), CreditRecord.decision_date <= today),
    )


def effective_status_clause(status: CreditStatus, today: date) -> ColumnElement[bool]:
    """SQL twin of :func:`core.rules.publicity.effective_status` equal to ``status``."""
    lapsed = and_(CreditRecord.publicity_end.is_not(None), CreditRecord.publicity_end < today)
    if status is CreditStatus.EXPIRED:
        return or_(
            CreditRecord.status == CreditStatus.EXPIRED,
            and_(CreditRecord.status == CreditStatus.ACTIVE, lapsed),
        )
    if status is CreditStatus.ACTIVE:
        return and_(CreditRecord.status == CreditStatus.ACTIVE, ~lapsed)
    return CreditRecord.status == status


def list_member_clause(
    list_name: str, *, today: date, feed_ids: Collection[int]
) -> ColumnElement[bool]:
    """Entities currently on a list, seen through the caller's feeds: ``black`` (any black
    list), ``red`` (any red list or the customs advanced certification) or a list's name."""
    base = and_(
        CreditRecord.entity_id == Entity.id, visible_clause(feed_ids), in_force_clause(today)
    )
    if list_name == BLACK:
        named: ColumnElement[bool] = CreditRecord.category == RecordCategory.LIST_ENTRY
    elif list_name == RED:
        named = CreditRecord.category == RecordCategory.RED_LIST
    else:
        named = and_(
            CreditRecord.category.in_([RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST]),
            CreditRecord.list_name == list_name,
        )
    clause = exists().where(base, named)
    if list_name == BLACK or (list_name != RED and CUSTOMS_ADVANCED not in list_name):
        return clause
    customs = and_(
        CreditRecord.category == RecordCategory.CUSTOMS_RATING,
        CreditRecord.grade.contains(CUSTOMS_ADVANCED, autoescape=True)
        if list_name == RED
        else CreditRecord.grade == list_name,
        _is_latest_customs_rating(today, feed_ids),
    )
    return or_(clause, exists().where(base, customs))


def _is_latest_customs_rating(today: date, feed_ids: Collection[int]) -> ColumnElement[bool]:
    later = aliased(CreditRecord)
    return ~exists().where(
        later.entity_id == CreditRecord.entity_id,
        later.category == RecordCategory.CUSTOMS_RATING,
        later.feed_id.in_(sorted(feed_ids)) if feed_ids else false(),
        in_force_clause(today, later),
        or_(
            later.decision_date > CreditRecord.decision_date,
            and_(later.decision_date == CreditRecord.decision_date, later.id > CreditRecord.id),
        ),
    )


def active_penalties_clause(*, today: date, feed_ids: Collection[int]) -> ColumnElement[bool]:
    return exists().where(
        CreditRecord.entity_id == Entity.id,
        CreditRecord.category == RecordCategory.PENALTY,
        visible_clause(feed_ids),
        in_force_clause(today),
    )
