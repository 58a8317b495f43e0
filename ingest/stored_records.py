"""Stored source records validated again, as ingest validated them: the feed's current
mapping applied to the raw payload, then the category's schema. For work on records already
stored (the matcher's record views of records linked before they existed,
``resolution.view_backfill``)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from core.models import Feed, RecordCategory
from ingest.mapping import MappingPlan, resolve_mapping
from ingest.records import validate_record

__all__ = ["StoredRecordValidator"]


class StoredRecordValidator:
    """``validator(feed_id, payload)``: the validated record, or None when it no longer
    validates under the feed's current mapping (or the feed is gone). Each feed's mapping is
    planned once, not once per record."""

    def __init__(self, *, session: Session) -> None:
        self.session = session
        self._feeds: dict[int, tuple[RecordCategory, MappingPlan] | None] = {}

    def __call__(self, feed_id: int, payload: dict[str, Any]) -> dict[str, Any] | None:
        if feed_id not in self._feeds:
            feed = self.session.get(Feed, feed_id)
            self._feeds[feed_id] = (
                None
                if feed is None
                else (feed.record_category, MappingPlan(resolve_mapping(feed.field_mapping or {})))
            )
        planned = self._feeds[feed_id]
        if planned is None or not isinstance(payload, dict):
            return None
        category, mapper = planned
        try:
            return validate_record(category, mapper.apply(payload))
        except ValidationError:
            return None
