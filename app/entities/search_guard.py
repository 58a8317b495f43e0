"""What wraps every search, government and public alike: who may search by a full resident id,
and the audit event every search writes. Never commits.

Why: a masked id (``110111********3183``) hides 8 digits that are a birth date, so a few hundred
candidates cover it; a search that answers "found" or "not found" for a full id recovers the
number in seconds. Searching by a full resident id (18 digits, or the old 15 when they read as
one) is therefore for regulators and departments only; everyone else gets a 403 that says so,
and the attempt is audited.

Every search, hit or miss, refused or not, writes one audit event with the query's kind and a
keyed hash of the query (``core.audit.query_hash``), never the query: the trail shows who
searched how often for what kind of thing, and an auditor holding the key can test whether a
given number was searched, but the trail itself discloses no number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.entities.search import is_code_query
from core.audit import query_hash, record_event
from core.errors import ServiceRefused
from core.models import ApiClient, Role
from core.rules.sharing import may_search_by_resident_id
from matching.identifier_types import IdentifierKind
from matching.identifiers import parse_identifier

_RESIDENT = (IdentifierKind.RESIDENT_ID, IdentifierKind.RESIDENT_ID_15)


class ResidentIdSearchRefused(ServiceRefused):
    """A caller whose role may not search by a full resident id tried to."""

    status = 403


def is_resident_id_query(query: str) -> bool:
    """Whether ``query`` is (or, for 15 digits, also reads as) a full resident id number."""
    if not is_code_query(query):
        return False
    ident = parse_identifier(query)
    if ident.kind in _RESIDENT:
        return True
    return any(
        alternative in _RESIDENT and parse_identifier(query, alternative).valid
        for alternative in ident.alternatives
    )


def refuse_resident_id_search(
    *, session: Session, client: ApiClient | None, role: Role, query: str, key: bytes, action: str
) -> None:
    """Raise :class:`ResidentIdSearchRefused` (after writing the refused search's audit event,
    which the caller commits before answering) when ``role`` may not search by the full resident
    id ``query``; nothing otherwise."""
    if may_search_by_resident_id(role) or not is_resident_id_query(query):
        return
    audit_search(
        session=session,
        client=client,
        action=action,
        query=query,
        query_kind="resident_id",
        key=key,
        total=None,
        refused=True,
    )
    raise ResidentIdSearchRefused(
        f"The {role.value} role may not search by a full resident id number: search by name or "
        "by the masked number (for example 110101********1234), or ask a regulator."
    )


def audit_search(
    *,
    session: Session,
    client: ApiClient | None,
    action: str,
    query: str | None,
    query_kind: str | None,
    key: bytes,
    total: int | None,
    persons: list[str] | None = None,
    refused: bool = False,
    extra: dict[str, Any] | None = None,
) -> None:
    """One audit event for one search: its kind, the keyed hash of the query, how many entities
    it found (``total``; None when refused) and the natural persons the page shows."""
    details: dict[str, Any] = {
        "query_kind": query_kind,
        "query_hash": query_hash(query, key) if query else None,
        "hits": total,
        **(extra or {}),
    }
    if persons:
        details["persons"] = persons
    if refused:
        details["refused"] = True
    target = persons[0] if persons and len(persons) == 1 else None
    record_event(
        session=session,
        client=client,
        action=action,
        target_type="entity",
        target_id=target,
        details=details,
    )
