"""Which party a credit check is about: a USCC, an ID number or a name, never a guess.

An identifier (anything code-shaped, ``app.entities.search.is_code_query``) is looked up
exactly (``identifier_hits``); a name fuzzily (``name_hits``). The party is *found* only when
there is no doubt:

* an identifier: exactly one entity holds it, by the code itself or its organization-code
  part (score at least ``_SURE_CODE_SCORE``); a masked ID number, or a code several entities
  hold, is *ambiguous*;
* a name: exactly one entity's name is the name asked for (after the search's normalisation:
  full-width, traditional characters, case); several namesakes, or only similar names, are
  *ambiguous*, answered with the candidates (at most ``MAX_CANDIDATES``, best first).

A department deciding on a licence must not act on a look-alike: the candidates let it come
back with the USCC or ID number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.entities.present import Viewer, identifier_views
from app.entities.search import Hit, identifier_hits, is_code_query, name_hits
from core.models import Entity, EntityIdentifier
from matching.identifier_types import IdentifierKind, clean_code
from matching.identifiers import parse_identifier
from resolution.survivors import survivor_of

MAX_CANDIDATES = 10
_SURE_CODE_SCORE = 0.97  # an exact code, or the org code inside a USCC (matching.exact)

FOUND = "matched"
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Party:
    """What an identifier resolved to: the entity when ``outcome`` is ``matched``, else the
    candidates (empty when nothing answers)."""

    outcome: str
    entity: Entity | None = None
    candidates: list[tuple[Entity, Hit]] = field(default_factory=list)


def find_party(session: Session, identifier: str) -> Party:
    """The party ``identifier`` names (see the module docstring)."""
    query = identifier.strip()
    clauses = [Entity.merged_into_id.is_(None)]
    if is_code_query(query):
        exact = _sole_holder(session, query)
        if exact is not None:
            return Party(FOUND, entity=exact)
        hits = identifier_hits(session, query, clauses)
        sure = [h for h in hits if h.score >= _SURE_CODE_SCORE]
        chosen = sure[0] if len(hits) == 1 and sure else None
    else:
        hits = name_hits(session, query, clauses)
        # the search's exact rule is this equality of stored search forms: no name to load
        exact = [h for h in hits if h.rule == "exact_name"]
        chosen = exact[0] if len(exact) == 1 else None
    if chosen is not None:
        entity = session.get(Entity, chosen.entity_id)
        return Party(FOUND, entity=entity)
    if not hits:
        return Party(NOT_FOUND)
    top = hits[:MAX_CANDIDATES]
    entities = {
        e.id: e
        for e in session.scalars(
            select(Entity)
            .where(Entity.id.in_([h.entity_id for h in top]))
            .options(selectinload(Entity.identifiers))
        )
    }
    return Party(AMBIGUOUS, candidates=[(entities[h.entity_id], h) for h in top])


def _sole_holder(session: Session, query: str) -> Entity | None:
    """The one entity (survivor of merges) holding ``query`` exactly as a valid code, else
    None. The common case of a batch (a bidder's USCC) needs nothing more, and skips the
    search's organization-code scan."""
    ident = parse_identifier(query)
    if not ident.valid or ident.kind is IdentifierKind.MASKED_ID:
        return None  # a masked id may fit several full ones: the search weighs them
    values = sorted({clean_code(query), ident.value} - {""})
    holders = set(
        session.scalars(
            select(EntityIdentifier.entity_id).where(
                EntityIdentifier.value.in_(values), EntityIdentifier.valid.is_(True)
            )
        )
    )
    survivors = {survivor_of(session, session.get_one(Entity, i)).id for i in holders}
    if len(survivors) != 1:
        return None
    return session.get(Entity, survivors.pop())


def entity_head(viewer: Viewer, entity: Entity) -> dict[str, object]:
    """The party as a check shows it: master data with identifiers masked for the viewer."""
    return {
        "public_id": entity.public_id,
        "kind": entity.kind.value,
        "display_name": entity.display_name,
        "region_code": entity.region_code,
        "identifiers": identifier_views(viewer, entity.identifiers, entity.kind),
    }


def candidate_views(viewer: Viewer, party: Party) -> list[dict[str, object]]:
    return [
        {**entity_head(viewer, entity), "score": hit.score, "matched_on": hit.matched_on}
        for entity, hit in party.candidates
    ]
