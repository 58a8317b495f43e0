"""The profile's other statements (identifiers, golden-record candidates, match links), each
built once per process with the bound parameters of ``profile_rows.profile_params``.

Why cached: building a statement is SQLAlchemy work in Python (construction, then the cache-key
walk that finds its compiled form), paid on every profile for statements that never change
shape; bound parameters carry what does change. Never commits.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Bundle

from app.entities.profile_rows import PROFILE_MATCH_LINKS, feeds_param, group_param
from core.models import Department, EntityAttribute, EntityIdentifier, Feed, MatchLink, SourceRecord


@functools.cache
def identifiers_statement() -> Any:
    """Every identifier of the merge group: the columns a profile shows (plain rows)."""
    i = EntityIdentifier
    return select(i.id_type, i.value, i.valid, i.problem).where(i.entity_id.in_(group_param()))


@functools.cache
def golden_candidates_statement() -> Any:
    """Every golden-record value of the merge group with its feed, department and source
    record (the caller keeps those the viewer may see: a value without a feed is everyone's)."""
    attr = EntityAttribute.__table__.c
    return (
        select(
            attr.id,
            attr.field,
            attr.value,
            attr.is_current,
            attr.feed_id,
            attr.basis,
            attr.observed_at,
            attr.source_record_id,
            Feed.code,
            Feed.record_category,
            Feed.golden_authority,
            Department.code,
            Department.name,
            SourceRecord.source_key,
        )
        .outerjoin(Feed, attr.feed_id == Feed.id)
        .outerjoin(Department, Feed.department_id == Department.id)
        .outerjoin(SourceRecord, attr.source_record_id == SourceRecord.id)
        .where(attr.entity_id.in_(group_param()))
    )


@functools.cache
def match_links_statement() -> Any:
    """The newest ``PROFILE_MATCH_LINKS`` links of the merge group through visible feeds (the
    columns a profile shows, as a plain row ``link``), each row carrying how many there are
    before the limit."""
    link = MatchLink
    columns = (link.id, link.source_record_id, link.decision, link.score, link.explanation,
               link.algorithm, link.decided_by, link.reviewer, link.reason, link.decided_at,
               link.superseded_at)  # fmt: skip
    return (
        select(Bundle("link", *columns), Feed.code, SourceRecord.source_key, func.count().over())
        .join(SourceRecord, MatchLink.source_record_id == SourceRecord.id)
        .join(Feed, SourceRecord.feed_id == Feed.id)
        .where(MatchLink.entity_id.in_(group_param()), Feed.id.in_(feeds_param()))
        .order_by(MatchLink.decided_at.desc(), MatchLink.id.desc())
        .limit(PROFILE_MATCH_LINKS)
    )
