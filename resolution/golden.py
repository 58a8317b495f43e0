"""The golden record: each entity's name, legal representative, address, birth date and gender,
chosen among the values its records brought by how sure each record's link is and by the
authority of its source, then by recency.

Every record's value of every field is kept (an ``EntityAttribute`` row, with the kind of
valid code its record carried as ``basis``); the one that wins is current. A value ranks by

1. its record's identification (:data:`BASIS_RANK`): a record carrying a valid USCC or resident
   id outranks one carrying only an older valid code (organization code, registration or
   taxpayer number), which outranks one without any valid code. So a code-less namesake that
   was linked by its name never overwrites what a record linked by the real USCC said;
2. its feed's authority (``core.rules.authority``: the catalogue's ``golden_authority``, else
   the record category's default; the registry beats a penalty);
3. recency: among equals, the latest record wins.

Ingest keeps the current values while linking (:func:`update_golden`, on the batch's entity
views); a split or unmerge chooses again from the rows each entity keeps
(:func:`recompute_golden`); the profile chooses across a merged group and among the feeds its
viewer may see with the same ranking (:func:`choose`), and says why each value won.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import EntityAttribute, Feed
from core.rules.authority import feed_authority
from matching.exact import PartyKeys
from matching.identifier_types import IdentifierKind
from matching.resident_ids import person_facts, resident_id_birth_date, resident_id_sex
from resolution.entity_views import AttrView, EntityView, EntityViews

# Golden-record fields taken from records, in the order the profile shows them.
GOLDEN_FIELDS = ("name", "legal_rep", "address", "birth_date", "gender")

# How sure a record's link is, by the kind of valid code it carried (None: no valid code).
BASIS_RANK: dict[str | None, int] = {
    IdentifierKind.USCC.value: 2,
    IdentifierKind.RESIDENT_ID.value: 2,
    IdentifierKind.RESIDENT_ID_15.value: 2,
    IdentifierKind.ORG_CODE.value: 1,
    IdentifierKind.TAXPAYER_NUMBER.value: 1,
    IdentifierKind.REGISTRATION_NUMBER.value: 1,
    None: 0,
}
_BASIS_TEXT = {
    IdentifierKind.USCC.value: "linked by USCC",
    IdentifierKind.RESIDENT_ID.value: "linked by resident id",
    IdentifierKind.RESIDENT_ID_15.value: "linked by 15-digit resident id",
    IdentifierKind.ORG_CODE.value: "linked by organization code",
    IdentifierKind.TAXPAYER_NUMBER.value: "linked by taxpayer number",
    IdentifierKind.REGISTRATION_NUMBER.value: "linked by registration number",
}
_STRONG_FIRST = (IdentifierKind.USCC.value, IdentifierKind.RESIDENT_ID.value)
_CHUNK = 500


def basis_rank(basis: str | None) -> int:
    """The rank of a record carrying a valid code of kind ``basis``; unknown kinds count as
    no valid code."""
    return BASIS_RANK.get(basis, 0)


def basis_of(keys: PartyKeys) -> str | None:
    """The strongest kind of valid code the record carries, or None."""
    for kind in _STRONG_FIRST:
        if kind in keys.strong:
            return kind
    best: str | None = None
    for ident in keys.identifiers:
        if ident.valid and basis_rank(ident.kind.value) > basis_rank(best):
            best = ident.kind.value
    return best


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record's value of one field, with what ranks it. ``observed_at`` and ``id`` order
    values of equal standing (later wins); ``row`` is whatever the caller wants back."""

    field: str
    value: str | None
    basis: str | None
    authority: int
    category: str | None
    observed_at: datetime | None = None
    id: int = 0
    row: Any = None

    @property
    def standing(self) -> tuple[int, int]:
        return basis_rank(self.basis), self.authority

    def rank(self) -> tuple[int, int, float, int]:
        when = self.observed_at.timestamp() if self.observed_at is not None else 0.0
        return (*self.standing, when, self.id)

    def describe(self) -> str:
        """``registry linked by USCC``, ``penalty without a valid code``."""
        how = _BASIS_TEXT.get(self.basis or "", "without a valid code")
        return f"{self.category or 'unknown source'} {how}"


def choose(candidates: Iterable[Candidate]) -> dict[str, tuple[Candidate, dict[str, str]]]:
    """The winning value of each field among ``candidates``, with why it won: ``rule`` (the
    winner's standing when it outranks every different value, ``most recent`` when one of
    equal standing says otherwise, ``all sources agree`` / ``only source``) and ``why``."""
    by_field: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_field.setdefault(candidate.field, []).append(candidate)
    chosen = {}
    for field_name, values in by_field.items():
        winner = max(values, key=Candidate.rank)
        chosen[field_name] = (winner, _why(winner, values))
    return chosen


def _why(winner: Candidate, values: list[Candidate]) -> dict[str, str]:
    standing = winner.describe()
    rivals = [c for c in values if c.value != winner.value]
    if not rivals:
        if len(values) == 1:
            return {"rule": "only source", "why": f"the only source: {standing}"}
        return {
            "rule": "all sources agree",
            "why": f"all {len(values)} records agree; the source shown is the best: {standing}",
        }
    runner_up = max(rivals, key=Candidate.rank)
    if winner.standing > runner_up.standing:
        return {"rule": standing, "why": f"{standing} outranks {runner_up.describe()}"}
    return {
        "rule": "most recent",
        "why": f"the most recent of the sources of equal standing ({standing})",
    }


# --------------------------------------------------------------------------- ingest


def update_golden(
    views: EntityViews,
    entity: EntityView,
    *,
    record: dict[str, Any],
    keys: PartyKeys,
    source_id: int,
    feed_id: int,
) -> None:
    """Keep the values record ``source_id`` (of feed ``feed_id``) brings; each becomes the
    entity's current one unless the current one outranks it (a better-identified record or a
    more authoritative feed: the new record is always the most recent). Birth date and gender
    come from the record's valid resident id when it has one (its check digit vouches for
    them), else from what a masked id still shows (``matching.resident_ids.person_facts``),
    else from the record's own fields (validated by ``ingest.records``: a date, ``"M"`` /
    ``"F"``)."""
    values = _record_values(record, keys)
    basis = basis_of(keys)
    standing = (basis_rank(basis), _authority(views, feed_id))
    current = {a.field: a for a in entity.attributes if a.is_current}
    for field_name in GOLDEN_FIELDS:
        value = values[field_name]
        if value is None:
            continue
        new = AttrView(
            field=field_name,
            value=str(value),
            source_record_id=source_id,
            feed_id=feed_id,
            basis=basis,
        )
        old = current.get(field_name)
        if old is None or standing >= (basis_rank(old.basis), _authority(views, old.feed_id)):
            views.set_attribute(entity, new)
        else:
            views.add_observation(entity, new)


def _record_values(record: dict[str, Any], keys: PartyKeys) -> dict[str, Any]:
    birth: date | None = record.get("birth_date")
    gender: str | None = record.get("gender")
    for ident in keys.identifiers:
        if ident.kind is IdentifierKind.MASKED_ID:
            facts = person_facts(ident.value)
            if facts is not None:
                birth = facts.birth_date or birth
                gender = facts.sex or gender
    if "resident_id" in keys.strong:
        birth = resident_id_birth_date(keys.strong["resident_id"]) or birth
        gender = resident_id_sex(keys.strong["resident_id"]) or gender
    return {
        "name": record.get("party_name"),
        "legal_rep": record.get("legal_rep"),
        "address": record.get("address"),
        "birth_date": birth.isoformat() if birth else None,
        "gender": gender,
    }


def _authority(views: EntityViews, feed_id: int | None) -> int:
    """The feed's authority, read once a batch; a value without a feed counts as 0."""
    if feed_id is None:
        return 0
    found = views.feed_authority.get(feed_id)
    if found is None:
        row = views.session.execute(
            select(Feed.record_category, Feed.golden_authority).where(Feed.id == feed_id)
        ).first()
        found = feed_authority(*row) if row is not None else 0
        views.feed_authority[feed_id] = found
    return found


# --------------------------------------------------------------------------- corrections


def attribute_candidates(session: Session, entity_ids: list[int]) -> list[Candidate]:
    """Every value the records of ``entity_ids`` brought, ranked as :func:`choose` ranks them
    (``row``: the entity id and the feed id)."""
    attr = EntityAttribute.__table__.c
    rows = session.execute(
        select(
            attr.id,
            attr.entity_id,
            attr.feed_id,
            attr.field,
            attr.value,
            attr.basis,
            attr.observed_at,
            Feed.record_category,
            Feed.golden_authority,
        )
        .outerjoin(Feed, attr.feed_id == Feed.id)
        .where(attr.entity_id.in_(entity_ids))
    )
    return [
        Candidate(
            field=field_name,
            value=value,
            basis=basis,
            authority=feed_authority(category, configured),
            category=_category_text(category),
            observed_at=observed_at,
            id=attr_id,
            row=(entity_id, feed_id),
        )
        for (
            attr_id,
            entity_id,
            feed_id,
            field_name,
            value,
            basis,
            observed_at,
            category,
            configured,
        ) in rows
    ]


def _category_text(category: Any) -> str | None:
    return None if category is None else str(getattr(category, "value", category))


def recompute_golden(*, session: Session, entity_ids: Iterable[int]) -> None:
    """Choose each entity's current values again from the values its records brought (after
    a split moved some of them away, or an unmerge). Each entity on its own; never commits."""
    ids = sorted(set(entity_ids))
    if not ids:
        return
    winners: list[int] = []
    by_entity: dict[int, list[Candidate]] = {}
    for candidate in attribute_candidates(session, ids):
        by_entity.setdefault(candidate.row[0], []).append(candidate)
    for candidates in by_entity.values():
        winners.extend(winner.id for winner, _ in choose(candidates).values())
    table = EntityAttribute.__table__
    session.execute(
        update(table)
        .where(table.c.entity_id.in_(ids), table.c.is_current.is_(True))
        .values(is_current=False)
    )
    for start in range(0, len(winners), _CHUNK):
        session.execute(
            update(table)
            .where(table.c.id.in_(winners[start : start + _CHUNK]))
            .values(is_current=True)
        )
