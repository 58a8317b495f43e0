"""Builders for credit records and entities with their sources.

Two ways to get data, both small:

* ``ingest(session, feed, payloads)`` pushes canonical payloads through the real pipeline
  (``ingest.pipeline.store.store_batch``): entities, identifiers, golden record and match
  links come out exactly as in production.
* ``make_company`` / ``make_person`` / ``make_record`` build rows directly, for what the pipeline
  does not do (merges, repaired records, hand-picked statuses).

``credit_record(**overrides)`` builds an unsaved record for pure unit tests (the grade).
"""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import (
    CreditRecord,
    CreditStatus,
    Entity,
    EntityIdentifier,
    EntityKind,
    Feed,
    IdentifierType,
    RecordCategory,
    Severity,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.outcomes import ItemOutcome
from ingest.pipeline.store import store_batch
from matching.identifiers import org_code_of
from tests.support.builders import make_entity, make_feed, make_source_record

_ids = count(1)

# Valid codes (they pass their checks) to build realistic parties with.
USCC_XINGHE = "91110000600037341L"  # org code 60003734-1, taxpayer number 110000600037341
USCC_HUAXIN = "91110108551385082Q"
USCC_XIAMEN = "9135021359498494XQ"
ID_ZHANG = "11010519491231002X"
ID_LI = "33010619900101123X"
ID_WANG = "110108198505050010"


def credit_record(**overrides: Any) -> CreditRecord:
    """An unsaved record with an id, active, decided 2026-01-01 (override anything)."""
    values: dict[str, Any] = {
        "id": next(_ids),
        "category": RecordCategory.PENALTY,
        "severity": Severity.GENERAL,
        "status": CreditStatus.ACTIVE,
        "party_name": "北京星河科技有限公司",
        "decision_date": date(2026, 1, 1),
        "publicity_end": None,
    }
    values.update(overrides)
    return CreditRecord(**values)


def ingest(session: Session, feed: Feed, payloads: list[dict[str, Any]]) -> list[ItemOutcome]:
    """Store canonical ``payloads`` for ``feed`` like an ingest run would; flushes, no commit.

    Raises AssertionError when a payload is rejected, naming its errors.
    """
    outcomes: list[ItemOutcome] = []
    batch = Batch(records=[RawRecord(p, f"test item {i}") for i, p in enumerate(payloads)])
    store_batch(session=session, feed=feed, run=None, batch=batch, outcomes=outcomes)
    rejected = [o for o in outcomes if o.status == "rejected"]
    assert not rejected, [o.errors for o in rejected]
    return outcomes


def entity_of(session: Session, outcome: ItemOutcome) -> Entity:
    entity = session.scalar(select(Entity).where(Entity.public_id == outcome.entity_id))
    assert entity is not None
    return entity


def penalty(source_id: str, **overrides: Any) -> dict[str, Any]:
    """A canonical penalty payload (general: a fine) about 北京星河科技有限公司."""
    values: dict[str, Any] = {
        "source_id": source_id,
        "party_name": "北京星河科技有限公司",
        "uscc": USCC_XINGHE,
        "decision_number": f"京环罚〔2026〕{source_id}号",
        "decision_date": "2026-03-01",
        "authority_name": "北京市生态环境局",
        "penalty_category": "罚款",
        "fine_amount": "5000",
        "content": "超标排放大气污染物",
    }
    values.update(overrides)
    return values


def list_entry(source_id: str, **overrides: Any) -> dict[str, Any]:
    """A canonical black-list entry about 张三 (full resident id)."""
    values: dict[str, Any] = {
        "source_id": source_id,
        "party_name": "张三",
        "id_number": ID_ZHANG,
        "list_name": "失信被执行人名单",
        "listed_on": "2026-01-10",
        "authority_name": "北京市朝阳区人民法院",
        "list_reason": "有履行能力而拒不履行生效法律文书确定义务",
    }
    values.update(overrides)
    return values


def registry(source_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source_id": source_id,
        "party_name": "北京星河科技有限公司",
        "uscc": USCC_XINGHE,
        "legal_rep": "王五",
        "address": "北京市朝阳区建国路1号",
        "established": "2010-05-01",
    }
    values.update(overrides)
    return values


def make_company(session: Session, *, name: str, uscc: str, **overrides: Any) -> Entity:
    """A legal entity holding ``uscc`` and the organization code inside it."""
    entity = make_entity(
        session,
        kind=EntityKind.LEGAL_ENTITY,
        display_name=name,
        region_code=uscc[2:8],
        **overrides,
    )
    add_identifier(session, entity, IdentifierType.USCC, uscc)
    org = org_code_of(uscc)
    if org:
        add_identifier(session, entity, IdentifierType.ORG_CODE, org)
    return entity


def make_person(
    session: Session,
    *,
    name: str,
    resident_id: str | None = None,
    masked_id: str | None = None,
    **overrides: Any,
) -> Entity:
    code = resident_id or masked_id or ""
    entity = make_entity(
        session,
        kind=EntityKind.NATURAL_PERSON,
        display_name=name,
        region_code=code[:6] if code[:6].isdigit() else None,
        **overrides,
    )
    if resident_id:
        add_identifier(session, entity, IdentifierType.RESIDENT_ID, resident_id)
    if masked_id:
        add_identifier(session, entity, IdentifierType.MASKED_ID, masked_id)
    return entity


def add_identifier(
    session: Session, entity: Entity, id_type: IdentifierType, value: str, **overrides: Any
) -> EntityIdentifier:
    ident = EntityIdentifier(entity_id=entity.id, id_type=id_type, value=value, **overrides)
    session.add(ident)
    session.flush()
    return ident


def make_record(session: Session, *, entity: Entity, feed: Feed, **overrides: Any) -> CreditRecord:
    """A stored record of ``feed`` about ``entity`` with its source record, active, decided
    2026-03-01, of the feed's category (override anything)."""
    source = make_source_record(session, feed=feed)
    values: dict[str, Any] = {
        "source_record_id": source.id,
        "feed_id": feed.id,
        "department_id": feed.department_id,
        "entity_id": entity.id,
        "link_confidence": 1.0,
        "category": feed.record_category,
        "severity": Severity.GENERAL if feed.record_category is RecordCategory.PENALTY else None,
        "status": CreditStatus.ACTIVE,
        "party_name": entity.display_name,
        "decision_number": f"测试〔2026〕{source.id}号",
        "decision_date": date(2026, 3, 1),
        "authority_name": "测试机关",
    }
    values.update(overrides)
    record = CreditRecord(**values)
    session.add(record)
    session.flush()
    return record


def make_credit_feed(session: Session, **overrides: Any) -> Feed:
    """A feed whose payloads are already canonical (keyed by ``source_id``)."""
    values: dict[str, Any] = {"field_mapping": {"source_key": "source_id"}}
    values.update(overrides)
    return make_feed(session, **values)
