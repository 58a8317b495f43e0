"""The records a profile shows, in one query whatever the entity holds. Never commits.

A profile shows the newest records of each category, the newest of all (the timeline), every
contributing department with its count, and grades from the records in force. Window functions
number and count the visible records by category, overall and by department, so the database
returns only the rows the profile shows plus those in force (the grade and the lists need all
of them), with each category's and department's total: the rest stay on the records page
(``/entities/{id}/records``, paginated).

The statement is built once per process (:func:`profile_rows_statement`) with bound parameters
for the entity, the visible feeds and the day (:func:`profile_params`): building it anew for
every profile cost about a third of the request (SQLAlchemy's construction and cache-key walk
of a statement with five window functions), while its compiled form was cached anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, Date, bindparam, func, or_, select
from sqlalchemy.orm import Bundle, Session, aliased

from app.entities.queries import in_force_clause
from core.models import CreditRecord, Department, Feed, SourceRecord
from resolution.survivors import entity_group_select

PROFILE_ITEMS_PER_CATEGORY = 20
PROFILE_TIMELINE_ITEMS = 100
PROFILE_MATCH_LINKS = 100
# The bound parameters of the profile's cached statements (profile_params gives their values).
ENTITY_PARAM = "profile_entity_id"
FEEDS_PARAM = "profile_feed_ids"
TODAY_PARAM = "profile_today"


def profile_params(*, entity_id: int, feed_ids: Collection[int], today: date) -> dict[str, Any]:
    """Values of the bound parameters of the profile's cached statements."""
    return {ENTITY_PARAM: entity_id, FEEDS_PARAM: sorted(feed_ids), TODAY_PARAM: today}


def group_param() -> Any:
    """The merge group of the entity in ``ENTITY_PARAM`` (``entity_group_select``), as a
    subquery for ``IN``."""
    return entity_group_select(bindparam(ENTITY_PARAM))


def feeds_param() -> BindParameter[Any]:
    """The visible feeds (``FEEDS_PARAM``) as an expanding ``IN`` list: none means none."""
    return bindparam(FEEDS_PARAM, expanding=True)


# The record's columns a profile reads (all but ``extra``, which repeats the party's raw codes,
# and the bookkeeping times): read as a plain row, not an ORM object (no identity map, no
# instance state: a profile only reads them).
RECORD_COLUMNS = tuple(
    c.key
    for c in CreditRecord.__table__.columns
    if c.key not in ("extra", "created_at", "updated_at")
)


@dataclass(frozen=True, slots=True)
class ProfileRow:
    # A row with CreditRecord's columns (RECORD_COLUMNS) as attributes, read like one.
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


@functools.cache
def profile_rows_statement() -> Any:
    """Rows of :class:`ProfileRow` for the merge group of the entity in ``ENTITY_PARAM``,
    newest first, as :func:`profile_params` binds it. The records are read once, by
    ``entity_id``, with their window numbers (no second read)."""
    order = _newest_first()
    today = bindparam(TODAY_PARAM, type_=Date())
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
        .where(CreditRecord.entity_id.in_(group_param()), CreditRecord.feed_id.in_(feeds_param()))
        .subquery()
    )
    record = aliased(CreditRecord, numbered)
    return (
        select(
            Bundle("record", *(getattr(record, name) for name in RECORD_COLUMNS)),
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


def profile_rows(session: Session, *, params: dict[str, Any]) -> list[ProfileRow]:
    """The rows a profile needs (see the module docstring), newest first: one query;
    ``params`` from :func:`profile_params`."""
    return [ProfileRow(*row) for row in session.execute(profile_rows_statement(), params)]
