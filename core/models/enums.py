"""Closed vocabularies of the data model (values are what the database and the API hold)."""

from __future__ import annotations

from enum import StrEnum


class SharingType(StrEnum):
    """Government information resource catalogue sharing types."""

    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class AdapterKind(StrEnum):
    FILE_DROP = "file_drop"
    HTTP_PULL = "http_pull"
    EXCHANGE_DB = "exchange_db"
    PUSH = "push"


class RecordCategory(StrEnum):
    LICENSING = "licensing"
    PENALTY = "penalty"
    LIST_ENTRY = "list_entry"
    RED_LIST = "red_list"
    TAX_GRADE = "tax_grade"
    CUSTOMS_RATING = "customs_rating"
    REGISTRY = "registry"


class Severity(StrEnum):
    """Severity drives publicity periods and credit repair (domain.md)."""

    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


class SourceStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    QUARANTINED = "quarantined"


class CreditStatus(StrEnum):
    ACTIVE = "active"
    REPAIRED = "repaired"
    EXPIRED = "expired"
    REVOKED = "revoked"
    DISPUTED = "disputed"


class EntityKind(StrEnum):
    LEGAL_ENTITY = "legal_entity"
    INDIVIDUAL_BUSINESS = "individual_business"
    NATURAL_PERSON = "natural_person"
    OTHER_ORGANIZATION = "other_organization"


class IdentifierType(StrEnum):
    """Mirrors ``matching.identifier_types.IdentifierKind`` (kept as the stored vocabulary)."""

    USCC = "uscc"
    ORG_CODE = "org_code"
    REGISTRATION_NUMBER = "registration_number"
    TAXPAYER_NUMBER = "taxpayer_number"
    RESIDENT_ID = "resident_id"
    MASKED_ID = "masked_id"
    OTHER = "other"


class MatchDecision(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNSURE = "unsure"


class DecidedBy(StrEnum):
    RULE = "rule"
    REVIEWER = "reviewer"


class IngestRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Role(StrEnum):
    REGULATOR = "regulator"
    DEPARTMENT = "department"
    ANALYST = "analyst"
    PUBLIC = "public"


class RepairStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ObjectionKind(StrEnum):
    CONTENT = "content"
    PERIOD = "period"
    REPAIR_RESULT = "repair_result"


class ObjectionStatus(StrEnum):
    RECEIVED = "received"  # filed; the record is unchanged until it is accepted for handling
    OPEN = "open"  # accepted for handling (record disputed), waiting for the department's answer
    ANSWERED = "answered"  # answered, waiting for a regulator to close it
    CORRECTED = "corrected"  # closed: the record was corrected
    UPHELD = "upheld"  # closed: the record stands


class ReviewStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # the same party: merged
    REJECTED = "rejected"  # not the same: never to be merged automatically
    # closed by the matcher: a newer scoring model no longer doubts the pair (not the same)
    WITHDRAWN = "withdrawn"
