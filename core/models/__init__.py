"""The data model. Importing this package registers every table on ``Base.metadata``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.models.access import ApiClient, AuditEvent, RateLimitCounter
from core.models.base import Base, utcnow
from core.models.catalogue import Department, Feed
from core.models.checks import CreditCheck, CreditCheckFeedback
from core.models.credit import CreditRecord, MatchLink
from core.models.disputes import Objection, RepairApplication
from core.models.entities import (
    Entity,
    EntityAttribute,
    EntityIdentifier,
    new_public_id,
    search_key_values,
)
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
    EntityReview,
    MatchingModel,
    RecordBlockKey,
    RecordMatchView,
)
from core.models.sources import FeedLease, IngestedFile, IngestRun, SourceRecord
from core.models.subscriptions import Delivery, OutboxEvent, Subscription, SubscriptionGradeMark

__all__ = [
    "AdapterKind",
    "ApiClient",
    "AuditEvent",
    "AuditTrailViolation",
    "Base",
    "CreditCheck",
    "CreditCheckFeedback",
    "CreditRecord",
    "CreditStatus",
    "DecidedBy",
    "Delivery",
    "Department",
    "Entity",
    "EntityAttribute",
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
    "MatchingModel",
    "Objection",
    "ObjectionKind",
    "ObjectionStatus",
    "OutboxEvent",
    "RateLimitCounter",
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
    "Subscription",
    "SubscriptionGradeMark",
    "new_public_id",
    "search_key_values",
    "utcnow",
]


class AuditTrailViolation(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailViolation("audit events are append-only")


# The outbox's listener (core/outbox.py) writes change events at every flush; it uses the
# models above, so it is imported last.
import core.outbox  # noqa: E402, F401
