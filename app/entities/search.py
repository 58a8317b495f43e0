"""Finding entities by any identifier or by name. Never commits.

Identifier queries (anything code-shaped: letters and digits, at least 8, or a masked id) are
exact look-ups in ``entity_identifiers``, under every reading of the code
(``matching.identifiers.parse_identifier`` and its alternatives), plus:

* the organization code the query carries (``org_code_of``: a USCC, an ``XXXXXXXX-X`` org code
  or an old 15-character taxpayer number) against stored org codes and the org-code part of
  stored USCCs (score 0.97, the linker's ``org_code_of_old_code`` confidence); an entity holding
  a different valid USCC than a USCC query is never offered (the matcher's hard rule);
* a masked resident id against full ids it is compatible with, and a full id against the masked
  ids it fits (0.9, ``masked_id_compatible``).

Name queries are fuzzy (``app.entities.names``): SQL keeps the entities whose name holds most
characters of the query's core name (at most ``MAX_NAME_CANDIDATES``, closest first), Python
scores them with rapidfuzz and keeps those scoring at least ``MIN_NAME_SCORE``.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from app.entities.names import char_variants, name_score, prefilter_chars, search_form
from core.models import Entity, EntityIdentifier, EntityKind, IdentifierType
from matching.exact import RULE_CONFIDENCE
from matching.identifier_types import IdentifierKind, clean_code
from matching.identifiers import org_code_of, parse_identifier
from matching.resident_ids import masked_id_compatible, parse_masked_id
from resolution.survivors import survivor_of

MAX_NAME_CANDIDATES = 500
MIN_NAME_SCORE = 0.6
_MIN_CODE_LENGTH = 8
_FLAGGED_SCORE = RULE_CONFIDENCE["exact_flagged_code"]
_ORG_SCORE = RULE_CONFIDENCE["org_code_of_old_code"]
_MASKED_SCORE = RULE_CONFIDENCE["masked_id_and_name"]


@dataclass(frozen=True)
class Hit:
    entity_id: int
    score: float
    matched_on: str
    rule: str


def is_code_query(query: str) -> bool:
    """Whether ``query`` is searched as an identifier rather than a name."""
    code = clean_code(query)
    bare = code.replace("*", "")
    return (
        len(code) >= _MIN_CODE_LENGTH
        and bare.isascii()
        and (bare.isalnum() or not bare)
        and any(ch.isdigit() for ch in bare)
    )


def query_kind(query: str) -> str:
    """What the query was read as: an identifier kind, or ``name``."""
    return parse_identifier(query).kind.value if is_code_query(query) else "name"


def identifier_hits(
    session: Session, query: str, clauses: Sequence[ColumnElement[bool]]
) -> list[Hit]:
    """Entities (survivors of merges) holding the identifier ``query``, best first."""
    ident = parse_identifier(query)
    values = {clean_code(query), ident.value}
    values |= {parse_identifier(query, alt).value for alt in ident.alternatives}
    found: list[Hit] = []
    rows = session.execute(
        select(EntityIdentifier.entity_id, EntityIdentifier.id_type, EntityIdentifier.valid).where(
            EntityIdentifier.id_type.in_(list(IdentifierType)),
            EntityIdentifier.value.in_(sorted(v for v in values if v)),
        )
    )
    for entity_id, id_type, valid in rows:
        score = 1.0 if valid else _FLAGGED_SCORE
        found.append(Hit(entity_id, score, id_type.value, "exact_identifier"))

    if ident.kind is IdentifierKind.MASKED_ID:
        found += _masked_query_hits(session, query)
    else:
        found += _org_code_hits(session, query, ident.kind, ident.valid, ident.value)
        if ident.kind in (IdentifierKind.RESIDENT_ID, IdentifierKind.RESIDENT_ID_15):
            found += _full_id_hits(session, ident.value)
    return _resolve(session, found, clauses)


def _org_code_hits(
    session: Session, query: str, kind: IdentifierKind, valid: bool, value: str
) -> list[Hit]:
    org = org_code_of(query)
    if org is None:
        return []
    rows = session.execute(
        select(EntityIdentifier.entity_id).where(
            or_(
                and_(
                    EntityIdentifier.id_type == IdentifierType.ORG_CODE,
                    EntityIdentifier.value == org,
                ),
                and_(
                    EntityIdentifier.id_type == IdentifierType.USCC,
                    func.substr(EntityIdentifier.value, 9, 9) == org,
                ),
            )
        )
    )
    ids = {r[0] for r in rows}
    if kind is IdentifierKind.USCC and valid and ids:
        # Two different valid USCCs are never one entity, whatever their org code parts say.
        holders = session.execute(
            select(EntityIdentifier.entity_id).where(
                EntityIdentifier.entity_id.in_(sorted(ids)),
                EntityIdentifier.id_type == IdentifierType.USCC,
                EntityIdentifier.valid.is_(True),
                EntityIdentifier.value != value,
            )
        )
        ids -= {r[0] for r in holders}
    return [Hit(i, _ORG_SCORE, "org_code", "org_code_of_old_code") for i in ids]


def _masked_query_hits(session: Session, query: str) -> list[Hit]:
    masked = parse_masked_id(query)
    if masked is None or not (masked.region or masked.tail):
        return []
    conditions = [EntityIdentifier.id_type == IdentifierType.RESIDENT_ID]
    if masked.region:
        conditions.append(EntityIdentifier.value.startswith(masked.region, autoescape=True))
    if masked.tail:
        conditions.append(EntityIdentifier.value.endswith(masked.tail, autoescape=True))
    rows = session.execute(
        select(EntityIdentifier.entity_id, EntityIdentifier.value).where(*conditions)
    )
    return [
        Hit(entity_id, _MASKED_SCORE, "resident_id", "masked_id_compatible")
        for entity_id, value in rows
        if masked_id_compatible(value, masked)
    ]


def _full_id_hits(session: Session, full: str) -> list[Hit]:
    rows = session.execute(
        select(EntityIdentifier.entity_id, EntityIdentifier.value).where(
            EntityIdentifier.id_type == IdentifierType.MASKED_ID,
            EntityIdentifier.value.endswith(full[-4:], autoescape=True),
        )
    )
    return [
        Hit(entity_id, _MASKED_SCORE, "masked_id", "masked_id_compatible")
        for entity_id, value in rows
        if masked_id_compatible(full, value)
    ]


def _resolve(
    session: Session, found: list[Hit], clauses: Sequence[ColumnElement[bool]]
) -> list[Hit]:
    """Hits moved to the surviving entity of any merge, best per entity, filtered."""
    best: dict[int, Hit] = {}
    for hit in found:
        entity = session.get(Entity, hit.entity_id)
        if entity is None:
            continue
        survivor = survivor_of(session, entity)
        hit = Hit(survivor.id, hit.score, hit.matched_on, hit.rule)
        if survivor.id not in best or hit.score > best[survivor.id].score:
            best[survivor.id] = hit
    if not best:
        return []
    kept = set(session.scalars(select(Entity.id).where(Entity.id.in_(sorted(best)), *clauses)))
    return sorted((h for h in best.values() if h.entity_id in kept), key=lambda h: -h.score)


def name_hits(
    session: Session,
    query: str,
    clauses: Sequence[ColumnElement[bool]],
    *,
    kinds: Sequence[EntityKind] | None = None,
) -> list[Hit]:
    """Entities whose display name answers ``query``, best first (merged ones excluded)."""
    chars = prefilter_chars(query)
    if not chars:
        return []
    needed = len(chars) if len(chars) <= 2 else math.ceil(0.6 * len(chars))
    present = [
        case(
            (
                or_(*(Entity.display_name.contains(v, autoescape=True) for v in char_variants(ch))),
                1,
            ),
            else_=0,
        )
        for ch in chars
    ]
    matched = functools.reduce(operator.add, present, literal(0))
    length_gap = func.abs(func.length(Entity.display_name) - len(search_form(query)))
    statement = (
        select(Entity.id, Entity.display_name)
        .where(Entity.merged_into_id.is_(None), matched >= needed, *clauses)
        .order_by(matched.desc(), length_gap, Entity.id)
        .limit(MAX_NAME_CANDIDATES)
    )
    if kinds is not None:
        statement = statement.where(Entity.kind.in_(list(kinds)))
    scored = []
    for entity_id, name in session.execute(statement):
        score = name_score(query, name)
        if score >= MIN_NAME_SCORE:
            gap = abs(len(search_form(name)) - len(search_form(query)))
            scored.append((score, gap, name, Hit(entity_id, score, "name", "fuzzy_name")))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [item[3] for item in scored]
