"""The service's own records as the matcher takes them, to train a scoring model on
(``credithub matching train``): every accepted source record, validated again with its feed's
current mapping, exactly as ingest validated it, and made a ``MatchRecord`` the way fuzzy
linking makes one (``resolution.record_views.record_for_matching``).

Records are read feed by feed in id order, in pages, so memory holds the match records, not
the source payloads; ``limit`` keeps the newest ones of each feed in proportion.
"""

from __future__ import annotations

from collections.abc import Iterator

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Feed, SourceRecord, SourceStatus
from ingest.mapping import MappingPlan, resolve_mapping
from ingest.records import validate_record
from matching.exact import party_keys
from matching.records import MatchRecord
from resolution.record_views import record_for_matching

__all__ = ["accepted_match_records"]

_PAGE = 2_000


def accepted_match_records(*, session: Session, limit: int | None = None) -> list[MatchRecord]:
    """Every accepted source record (at most ``limit``, spread over the feeds by their size,
    newest first) as a ``MatchRecord`` with id ``record:<source record id>``. A stored record
    that no longer validates under its feed's current mapping is skipped, not an error."""
    feeds = list(session.scalars(select(Feed).order_by(Feed.id)))
    sizes = dict(
        session.execute(
            select(SourceRecord.feed_id, func.count())
            .where(SourceRecord.status == SourceStatus.ACCEPTED)
            .group_by(SourceRecord.feed_id)
        ).all()
    )
    total = sum(sizes.values())
    records: list[MatchRecord] = []
    for feed in feeds:
        size = sizes.get(feed.id, 0)
        if not size:
            continue
        wanted = size if limit is None or total <= limit else max(1, size * limit // total)
        records.extend(_feed_records(session, feed, wanted))
    return records


def _feed_records(session: Session, feed: Feed, wanted: int) -> Iterator[MatchRecord]:
    mapper = MappingPlan(resolve_mapping(feed.field_mapping or {}))
    last: int | None = None
    taken = 0
    while taken < wanted:
        query = (
            select(SourceRecord.id, SourceRecord.raw_payload)
            .where(SourceRecord.feed_id == feed.id, SourceRecord.status == SourceStatus.ACCEPTED)
            .order_by(SourceRecord.id.desc())
            .limit(min(_PAGE, wanted - taken))
        )
        if last is not None:
            query = query.where(SourceRecord.id < last)
        rows = session.execute(query).all()
        if not rows:
            return
        for source_id, payload in rows:
            last = source_id
            taken += 1
            try:
                record = validate_record(feed.record_category, mapper.apply(payload))
            except ValidationError:
                continue
            kind = party_keys(record).kind
            yield record_for_matching(record, kind=kind, record_id=f"record:{source_id}")
