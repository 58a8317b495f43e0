"""``make_x(**overrides)`` helpers: the smallest valid rows, overridable field by field."""

from __future__ import annotations

import hashlib
import json
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from core.models import (
    AdapterKind,
    Department,
    Entity,
    EntityKind,
    Feed,
    RecordCategory,
    SharingType,
    SourceRecord,
    SourceStatus,
    new_public_id,
)

_seq = count(1)


def make_department(session: Session, **overrides: Any) -> Department:
    n = next(_seq)
    values: dict[str, Any] = {"code": f"DEPT{n}", "name": f"测试部门{n}", "uscc": None}
    values.update(overrides)
    dept = Department(**values)
    session.add(dept)
    session.flush()
    return dept


def make_feed(session: Session, **overrides: Any) -> Feed:
    n = next(_seq)
    if "department" not in overrides and "department_id" not in overrides:
        overrides["department"] = make_department(session)
    values: dict[str, Any] = {
        "code": f"feed-{n}",
        "name": f"测试数据资源{n}",
        "format": "csv",
        "record_category": RecordCategory.PENALTY,
        "sharing_type": SharingType.UNCONDITIONAL,
        "adapter": AdapterKind.FILE_DROP,
    }
    values.update(overrides)
    feed = Feed(**values)
    session.add(feed)
    session.flush()
    return feed


def make_source_record(session: Session, **overrides: Any) -> SourceRecord:
    n = next(_seq)
    if "feed" not in overrides and "feed_id" not in overrides:
        overrides["feed"] = make_feed(session)
    payload = overrides.pop("raw_payload", {"XK_XDR_MC": f"测试公司{n}"})
    values: dict[str, Any] = {
        "source_key": f"key-{n}",
        "raw_payload": payload,
        "payload_hash": hashlib.sha256(
            json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
        "status": SourceStatus.ACCEPTED,
    }
    values.update(overrides)
    record = SourceRecord(**values)
    session.add(record)
    session.flush()
    return record


def make_entity(session: Session, **overrides: Any) -> Entity:
    kind = overrides.get("kind", EntityKind.LEGAL_ENTITY)
    values: dict[str, Any] = {
        "kind": kind,
        "public_id": new_public_id(kind),
        "display_name": f"测试实体{next(_seq)}有限公司",
    }
    values.update(overrides)
    entity = Entity(**values)
    session.add(entity)
    session.flush()
    return entity
