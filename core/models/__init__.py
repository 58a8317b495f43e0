"""The data model. Importing this package registers every table on ``Base.metadata``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.models.access import ApiClient, AuditEvent
from core.models.base import Base, utcnow
from core.models.catalogue import Department, Feed
from core.models.credit import CreditRecord, MatchLink
from core.models.disputes import Objection, RepairApplication
from core.models.entities import Entity, EntityAttribute, EntityIdentifier, new_public_id
from core.models.enums import (
    AdapterKind,
    CreditStatus,
    DecidedBy,
    EntityKind,
    IdentifierType,
    IngestRunStatus,
    MatchDecision,
    ObjectionKind,
    ObjectionStatus,
    RecordCategory,
    RepairStatus,
    ReviewStatus,
    Role,
    Severity,
    SharingType,
    SourceStatus,
)
from core.models.resolution import (
    EntityBlockKey,
    EntityReview,
    RecordBlockKey,
    RecordMatchView,
)
from core.models.sources import FeedLease, IngestedFile, IngestRun, SourceRecord

__all__ = [
    "AdapterKind",
    "ApiClient",
    "AuditEvent",
    "AuditTrailViolation",
    "Base",
    "CreditRecord",
    "CreditStatus",
    "DecidedBy",
    "Department",
    "Entity",
    "EntityAttribute",
    "EntityBlockKey",
    "EntityIdentifier",
    "EntityKind",
    "EntityReview",
    "Feed",
    "FeedLease",
    "IdentifierType",
    "IngestRun",
    "IngestRunStatus",
    "IngestedFile",
    "MatchDecision",
    "MatchLink",
    "Objection",
    "ObjectionKind",
    "ObjectionStatus",
    "RecordBlockKey",
    "RecordCategory",
    "RecordMatchView",
    "RepairApplication",
    "RepairStatus",
    "ReviewStatus",
    "Role",
    "Severity",
    "SharingType",
    "SourceRecord",
    "SourceStatus",
    "new_public_id",
    "utcnow",
]


class AuditTrailViolation(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailViolation("audit events are append-only")
