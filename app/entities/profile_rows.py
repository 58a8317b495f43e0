"""The records a profile shows, in one query whatever the entity holds. Never commits.

A profile shows the newest records of each category, the newest of all (the timeline), every
contributing department with its count, and grades from the records in force. Window functions
number and count the visible records by category, overall and by department, so the database
returns only the rows the profile shows plus those in force (the grade and the lists need all
of them), with each category's and department's total: the rest stay on the records page
(``/entities/{id}/records``, paginated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.entities.queries import in_force_clause, visible_clause
from core.models import CreditRecord, Department, Feed, SourceRecord

PROFILE_ITEMS_PER_CATEGORY = 20
PROFILE_TIMELINE_ITEMS = 100


@dataclass(frozen=True, slots=True)
class ProfileRow:
    record: CreditRecord
    feed_code: str
    department_code: str
    department_name: str
    source_key: str
    category_total: int
    department_total: int
    in_category: int  # 1 for the category's newest record
    overall: int  # 1 for the newest record of all
    in_department: int  # 1 for the department's newest record

    @property
    def shown_in_category(self) -> bool:
        return self.in_category <= PROFILE_ITEMS_PER_CATEGORY

    @property
    def on_timeline(self) -> bool:
        return self.overall <= PROFILE_TIMELINE_ITEMS


def _newest_first() -> tuple[Any, ...]:
    return (CreditRecord.decision_date.desc().nulls_last(), CreditRecord.id.desc())


def profile_rows_statement(*, group: Select[Any], feed_ids: frozenset[int], today: date) -> Any:
    """Rows of :class:`ProfileRow` for the entities ``group`` selects, newest first. The
    records are read once, by ``entity_id``, with their window numbers (no second read)."""
    order = _newest_first()
    numbered = (
        select(
            CreditRecord,
            func.count().over(partition_by=CreditRecord.category).label("category_total"),
            func.count().over(partition_by=CreditRecord.department_id).label("department_total"),
            func.row_number()
            .over(partition_by=CreditRecord.category, order_by=order)
            .label("in_category"),
            func.row_number().over(order_by=order).label("overall"),
            func.row_number()
            .over(partition_by=CreditRecord.department_id, order_by=order)
            .label("in_department"),
        )
        .where(CreditRecord.entity_id.in_(group), visible_clause(feed_ids))
        .subquery()
    )
    record = aliased(CreditRecord, numbered)
    return (
        select(
            record,
            Feed.code,
            Department.code,
            Department.name,
            SourceRecord.source_key,
            numbered.c.category_total,
            numbered.c.department_total,
            numbered.c.in_category,
            numbered.c.overall,
            numbered.c.in_department,
        )
        .join(Feed, record.feed_id == Feed.id)
        .join(Department, record.department_id == Department.id)
        .join(SourceRecord, record.source_record_id == SourceRecord.id)
        .where(
            or_(
                numbered.c.in_category <= PROFILE_ITEMS_PER_CATEGORY,
                numbered.c.overall <= PROFILE_TIMELINE_ITEMS,
                numbered.c.in_department == 1,
                in_force_clause(today, record),
            )
        )
        .order_by(record.decision_date.desc().nulls_last(), record.id.desc())
    )


def profile_rows(
    session: Session, *, group: Select[Any], feed_ids: frozenset[int], today: date
) -> list[ProfileRow]:
    """The rows a profile needs (see the module docstring), newest first: one query."""
    statement = profile_rows_statement(group=group, feed_ids=feed_ids, today=today)
    return [ProfileRow(*row) for row in session.execute(statement)]
