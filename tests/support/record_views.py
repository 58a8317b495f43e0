"""A database as it was before migration 0013: generated records ingested and linked, then
the matcher's record views and blocking keys deleted (the migration creates them empty)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    AdapterKind,
    CreditRecord,
    Entity,
    EntityIdentifier,
    Feed,
    IdentifierType,
    RecordBlockKey,
    RecordCategory,
    RecordMatchView,
    SourceRecord,
    SourceStatus,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.store import store_batch
from tests.support.builders import make_department, make_feed


def stored_views(session: Session) -> tuple[dict[int, tuple[int, Any]], set[tuple[str, int]]]:
    """Every record view (source id -> (entity id, view)) and every (key, source id)."""
    views = {
        s: (e, v)
        for s, e, v in session.execute(
            select(
                RecordMatchView.source_record_id, RecordMatchView.entity_id, RecordMatchView.view
            )
        )
    }
    keys = {
        (k, s)
        for k, s in session.execute(select(RecordBlockKey.key, RecordBlockKey.source_record_id))
    }
    return views, keys


def drop_views(session_factory: sessionmaker[Session], source_ids: list[int] | None = None) -> None:
    """Delete the views and keys (of ``source_ids``; default all), as before migration 0013."""
    with session_factory() as session:
        for model in (RecordBlockKey, RecordMatchView):
            statement = delete(model)
            if source_ids is not None:
                statement = statement.where(model.source_record_id.in_(source_ids))
            session.execute(statement)
        session.commit()


def in_force(session: Session) -> set[int]:
    """Source ids of the accepted records linked to an entity."""
    return set(
        session.scalars(
            select(SourceRecord.id)
            .join(CreditRecord, CreditRecord.source_record_id == SourceRecord.id)
            .where(
                SourceRecord.status == SourceStatus.ACCEPTED, CreditRecord.entity_id.is_not(None)
            )
        )
    )


def view_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RecordMatchView)) or 0


def old_parties(session: Session, count: int) -> list[tuple[int, str, str]]:
    """``count`` companies that answer for themselves (not merged), each with its one valid
    USCC: (entity id, display name, USCC)."""
    rows = session.execute(
        select(Entity.id, Entity.display_name, EntityIdentifier.value)
        .join(EntityIdentifier, EntityIdentifier.entity_id == Entity.id)
        .where(
            Entity.merged_into_id.is_(None),
            EntityIdentifier.id_type == IdentifierType.USCC,
            EntityIdentifier.valid.is_(True),
        )
        .order_by(Entity.id)
    ).all()
    seen: dict[int, tuple[int, str, str]] = {}
    for entity_id, name, uscc in rows:
        seen.setdefault(entity_id, (entity_id, name, uscc))
    assert len(seen) >= count, "the generated data set has too few companies with a USCC"
    return list(seen.values())[:count]


def push_penalty(session_factory: sessionmaker[Session], *, doc: str, name: str, uscc: str) -> int:
    """Ingest one new penalty about ``name`` / ``uscc`` through a push feed; returns the id of
    the entity it was linked to."""
    with session_factory() as session:
        feed = session.scalars(select(Feed).where(Feed.code == "backfill-push")).one_or_none()
        if feed is None:
            feed = make_feed(
                session,
                code="backfill-push",
                department=make_department(session, code="BACKFILL"),
                adapter=AdapterKind.PUSH,
                record_category=RecordCategory.PENALTY,
                field_mapping={"preset": "double_publicity_penalty"},
            )
        item = {
            "source_id": doc,
            "CF_XDR_MC": name,
            "CF_XDR_SHXYM": uscc,
            "CF_XZCFJDSWH": doc,
            "CF_JDRQ": "2026-03-01",
            "CF_CFJG": "北京市生态环境局",
        }
        store_batch(
            session=session, feed=feed, run=None, batch=Batch(records=[RawRecord(item, "test")])
        )
        session.commit()
        entity_id = session.scalars(
            select(CreditRecord.entity_id).where(CreditRecord.decision_number == doc)
        ).one()
        assert entity_id is not None
        return entity_id
