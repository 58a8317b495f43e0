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

Name queries read the search forms stored with each entity (``Entity.search_name`` and
``search_core``, :func:`matching.search_names.search_keys`) through indexes, never by scanning
names: b-tree ranges find exact names, name prefixes and equal or prefixed core names (this
also serves queries shorter than a trigram, such as two-character personal names). The
trigram postings (``app.entities.name_grams``) find names holding a trigram of the query's
core name or of the two characters before it (:func:`query_trigrams`): each trigram's holders
are counted up to a cap, and only the rarest few are read (most held first). When no trigram
is rare (物流有限公司, 有限公司) or the query has two characters (物流), the names holding the
query whole are listed: the first few hundred postings in key order (``common_word`` when there
may be more, ``name_contains`` otherwise). Each look-up keeps at most ``MAX_NAME_CANDIDATES``;
Python scores the stored keys with rapidfuzz. Ranking: ``exact_name`` > ``core_name`` /
``name_prefix`` > ``fuzzy_name`` (those scoring at least ``MIN_NAME_SCORE``) / ``name_contains``
> ``common_word``, then by score.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from app.entities.name_grams import (
    fuzzy_statement,
    gram_counts,
    rare_grams,
    word_holders,
    word_statement,
)
from core.models import Entity, EntityIdentifier, EntityKind, IdentifierType
from matching.exact import RULE_CONFIDENCE
from matching.identifier_types import IdentifierKind, clean_code
from matching.identifiers import org_code_of, parse_identifier
from matching.resident_ids import masked_id_compatible, parse_masked_id
from matching.search_names import keys_score, search_keys, trigrams
from resolution.survivors import survivor_of

MAX_NAME_CANDIDATES = 500
# The trigram look-up's best: each is scored in Python, and the best share the most trigrams.
FUZZY_CANDIDATES = 200
MIN_NAME_SCORE = 0.6
_MIN_CODE_LENGTH = 8
_FLAGGED_SCORE = RULE_CONFIDENCE["exact_flagged_code"]
_ORG_SCORE = RULE_CONFIDENCE["org_code_of_old_code"]
_MASKED_SCORE = RULE_CONFIDENCE["masked_id_and_name"]
# Why a name matched, best first (a hit's ``rule``); equal ranks are ordered by score.
NAME_RULES = {
    "exact_name": 0,
    "core_name": 1,
    "name_prefix": 1,
    "fuzzy_name": 2,
    # found by holding the query whole, when every trigram of it is common or it has two
    # characters: all such names (name_contains) or the first page of them (common_word)
    "name_contains": 2,
    "common_word": 3,
}
_LAST_CHARACTER = "\U0010ffff"
_SHORT_CORE = 5
_TAIL = 4


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
    rows = session.execute(_holders_of_values(), {"values": sorted(v for v in values if v)})
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
    ids = {r[0] for r in session.execute(_holders_of_org_code(), {"org": org})}
    if kind is IdentifierKind.USCC and valid and ids:
        # Two different valid USCCs are never one entity, whatever their org code parts say.
        holders = session.execute(_other_uscc_holders(), {"ids": sorted(ids), "uscc": value})
        ids -= {r[0] for r in holders}
    return [Hit(i, _ORG_SCORE, "org_code", "org_code_of_old_code") for i in ids]


# Identifier searches run these on every request: built once per process, with bound
# parameters (building them cost more than the indexed look-ups themselves).


@functools.cache
def _holders_of_values() -> Any:
    i = EntityIdentifier
    return select(i.entity_id, i.id_type, i.valid).where(
        i.id_type.in_(list(IdentifierType)), i.value.in_(bindparam("values", expanding=True))
    )


@functools.cache
def _holders_of_org_code() -> Any:
    i = EntityIdentifier
    org = bindparam("org")
    return select(i.entity_id).where(
        or_(
            and_(i.id_type == IdentifierType.ORG_CODE, i.value == org),
            and_(i.id_type == IdentifierType.USCC, org_code_part(i.value) == org),
        )
    )


@functools.cache
def _other_uscc_holders() -> Any:
    i = EntityIdentifier
    return select(i.entity_id).where(
        i.entity_id.in_(bindparam("ids", expanding=True)),
        i.id_type == IdentifierType.USCC,
        i.valid.is_(True),
        i.value != bindparam("uscc"),
    )


def org_code_part(value: Any) -> Any:
    """Characters 9-17 of a stored code (a USCC's organization code): the expression of the
    index ``ix_entity_identifiers_org_part`` (migration 0012_name_search), spelled with literal
    numbers so that both databases match it to the index."""
    return func.substr(value, literal_column("9"), literal_column("9"))


def tail_part(value: Any) -> Any:
    """The last four characters of a stored code: the expression of the index
    ``ix_entity_identifiers_tail`` (migration 0012_name_search); masked ids keep their last four."""
    return func.substr(value, func.length(value) - literal_column("3"))


def _masked_query_hits(session: Session, query: str) -> list[Hit]:
    masked = parse_masked_id(query)
    if masked is None or not (masked.region or masked.tail):
        return []
    conditions = [EntityIdentifier.id_type == IdentifierType.RESIDENT_ID]
    if masked.region:
        conditions.append(EntityIdentifier.value.startswith(masked.region, autoescape=True))
    if masked.tail:
        conditions.append(tail_part(EntityIdentifier.value) == masked.tail[-_TAIL:])
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
            tail_part(EntityIdentifier.value) == full[-_TAIL:],
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
    """Hits moved to the surviving entity of any merge, best per entity, filtered.

    One query reads the hit entities with their merge pointers and whether each passes
    ``clauses``; only hits on merged entities (rare) cost more: the walk to their survivors and
    the clauses asked again of those."""
    if not found:
        return []
    passes = and_(true(), *clauses).label("passes")
    rows = session.execute(
        select(Entity.id, Entity.merged_into_id, passes).where(
            Entity.id.in_(sorted({h.entity_id for h in found}))
        )
    )
    survivor: dict[int, int] = {}
    kept: set[int] = set()
    for entity_id, merged_into_id, passed in rows:
        if merged_into_id is None:
            survivor[entity_id] = entity_id
            if passed:
                kept.add(entity_id)
        else:
            entity = session.get(Entity, entity_id)
            assert entity is not None  # just read
            survivor[entity_id] = survivor_of(session, entity).id
    moved = {survivor[i] for i in survivor if survivor[i] != i}
    if moved:
        kept |= set(
            session.scalars(select(Entity.id).where(Entity.id.in_(sorted(moved)), *clauses))
        )
    best: dict[int, Hit] = {}
    for hit in found:
        if hit.entity_id not in survivor:
            continue
        hit = Hit(survivor[hit.entity_id], hit.score, hit.matched_on, hit.rule)
        if hit.entity_id not in best or hit.score > best[hit.entity_id].score:
            best[hit.entity_id] = hit
    return sorted((h for h in best.values() if h.entity_id in kept), key=lambda h: -h.score)


def name_hits(
    session: Session,
    query: str,
    clauses: Sequence[ColumnElement[bool]],
    *,
    kinds: Sequence[EntityKind] | None = None,
) -> list[Hit]:
    """Entities whose display name answers ``query``, best first (merged ones excluded):
    exact names, then prefixes and equal core names, then fuzzy matches scoring at least
    ``MIN_NAME_SCORE``; for a word too common to rank, the first names holding it. Each hit's
    ``rule`` says which (``NAME_RULES``).

    ``clauses`` (conditions on ``Entity``) narrow every look-up the same way."""
    form, core = search_keys(query)
    if not form:
        return []
    where = [Entity.merged_into_id.is_(None), *clauses]
    if kinds is not None:
        where.append(Entity.kind.in_(list(kinds)))
    rows: dict[int, tuple[str, str, str]] = {}
    found: dict[int, str] = {}  # the look-up that found each entity, when not the b-tree's
    for entity_id, name, search_name, search_core in session.execute(
        _indexed_name_statement(form, core, where)
    ):
        rows[entity_id] = (name, search_name, search_core)
    grams = query_trigrams(form, core)
    counts = gram_counts(session, grams)
    rare = rare_grams(counts)
    if rare:
        statement = fuzzy_statement(session, rare, form, where, limit=FUZZY_CANDIDATES)
        for entity_id, name, search_name, search_core in session.execute(statement):
            rows.setdefault(entity_id, (name, search_name, search_core))
    elif len(form) >= 2 and 0 not in counts.values():
        # Every trigram common (物流有限公司, 有限公司) or a word of two characters (物流): no
        # ranking can pick from so many names; a bounded first page, in the index's order.
        ids, more = word_holders(session, form, grams or trigrams(form))
        rule = "common_word" if more else "name_contains"
        for entity_id, name, search_name, search_core in (
            session.execute(word_statement(session, ids, form, where)) if ids else []
        ):
            rows.setdefault(entity_id, (name, search_name, search_core))
            found[entity_id] = rule  # kept even where a b-tree found it only as a neighbour
    return _ranked(form, core, rows, found)


def _ranked(
    form: str,
    core: str,
    rows: dict[int, tuple[str, str, str]],
    found: dict[int, str],
) -> list[Hit]:
    keys = (form, core)
    ranked = []
    for entity_id, (name, search_name, search_core) in rows.items():
        rule = _name_rule(form, core, search_name, search_core)
        if rule == "fuzzy_name":
            rule = found.get(entity_id, rule)
        score = 1.0 if rule == "exact_name" else keys_score(keys, (search_name, search_core))
        if rule == "fuzzy_name" and score < MIN_NAME_SCORE:
            continue
        # Within a rank, a name the query starts comes first (北京星河科技: 北京星河科技有限公司
        # before 上海星河科技有限公司, both equal in core), then the best scored.
        key = (NAME_RULES[rule], not search_name.startswith(form), -score, len(search_name), name)
        ranked.append((key, Hit(entity_id, score, "name", rule)))
    ranked.sort(key=lambda item: item[0])
    return [item[1] for item in ranked]


def query_trigrams(form: str, core: str) -> list[str]:
    """The trigrams a fuzzy name search looks up: those of the core name and of the two
    characters before it (``北京星和科技...`` gives 北京星 京星和 星和科 和科技). The legal form's
    trigrams (有限公, 限公司) are left out: nearly every company holds them. The characters before
    the core let a typo inside a short core still find the name (星河科技 and 星和科技 share no
    trigram; 北京星河... and 北京星和... share 北京星); without them (a query of the core alone)
    such a typo finds nothing by trigram: the documented limit of a trigram index."""
    if not core:
        return trigrams(form)
    at = form.find(core)
    if at < 0:
        return trigrams(core)
    return trigrams(form[max(0, at - 2) : at + len(core)])


def _name_rule(form: str, core: str, search_name: str, search_core: str) -> str:
    if search_name == form:
        return "exact_name"
    if core and search_core == core:
        return "core_name"
    if search_name.startswith(form) or (core and search_core.startswith(core)):
        return "name_prefix"
    return "fuzzy_name"


def _indexed_name_statement(form: str, core: str, where: list[ColumnElement[bool]]) -> Any:
    """Exact names, name prefixes, equal core names and core-name prefixes: b-tree look-ups
    that also serve names shorter than a trigram. Each reads a range of one index in its order,
    at most ``MAX_NAME_CANDIDATES`` rows, however many names share the prefix (张伟, 北京测试):
    names from ``form`` on, cores from ``core`` on. A short core (fewer than ``_SHORT_CORE``
    characters) also brings its neighbours among the cores starting with its first character,
    since a typo in it can leave no trigram intact (星河科技, 星辰科技): half after it, half before.
    """
    columns = (Entity.id, Entity.display_name, Entity.search_name, Entity.search_core)
    name, key = Entity.search_name, Entity.search_core
    arms = [
        select(*columns)
        .where(name >= form, name < form + _LAST_CHARACTER, *where)
        .order_by(name)
        .limit(MAX_NAME_CANDIDATES)
    ]
    if core:
        short = len(core) < _SHORT_CORE
        stem = core[:1] if short else core
        arms.append(
            select(*columns)
            .where(key >= core, key < stem + _LAST_CHARACTER, *where)
            .order_by(key)
            .limit(MAX_NAME_CANDIDATES // 2 if short else MAX_NAME_CANDIDATES)
        )
        if short:
            arms.append(
                select(*columns)
                .where(key >= stem, key < core, *where)
                .order_by(key.desc())
                .limit(MAX_NAME_CANDIDATES // 2)
            )
    return union_all(*(select(arm.subquery()) for arm in arms))
