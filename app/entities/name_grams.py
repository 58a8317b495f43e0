"""Reading the trigram postings of names (``entity_name_grams``, migration 0016_name_grams):
one row per distinct trigram of each entity's ``search_name``, keyed ``(gram, entity_id)``.

Every read here is a range of that key bounded by a LIMIT, so its cost is set by the LIMIT,
not by the table: counting a trigram's holders stops at ``COMMON_GRAM``; the fuzzy look-up
reads the holders of trigrams the count found rare (at most ``GRAM_BUDGET`` postings); a
common word reads the first ``WORD_SCAN`` postings in key order. Never commits.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    String,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import Session

from core.models import Entity

GRAMS = table("entity_name_grams", column("gram", String), column("entity_id", Integer))
# A trigram held by this many names is common: the fuzzy look-up does not read its holders.
COMMON_GRAM = 1000
# The fuzzy look-up reads the holders of the rarest trigrams while their total stays under
# this (at least the rarest one's), at most MAX_GRAMS trigrams.
GRAM_BUDGET = 2000
MAX_GRAMS = 8
# How many of their holders, those holding most of them, are read from ``entities``.
HOLDERS_READ = 400
# How many postings of a common word are read for its first page.
WORD_SCAN = 500
_LAST_CHARACTER = "\U0010ffff"


@functools.cache
def _counts_statement(n: int) -> Any:
    """How many names hold each of ``n`` trigrams (``g0``..), up to ``COMMON_GRAM``: the i-th
    row gives trigram i's count."""
    counts = [
        select(literal(i).label("i"), func.count().label("n")).select_from(
            select(GRAMS.c.entity_id)
            .where(GRAMS.c.gram == bindparam(f"g{i}", type_=String))
            # in key order, a literal limit: a plan that stops at the cap whatever the trigram
            # (a bitmap scan would read all of a common trigram's postings first)
            .order_by(GRAMS.c.entity_id)
            .limit(literal_column(str(COMMON_GRAM)))
            .subquery()
        )
        for i in range(n)
    ]
    return counts[0] if n == 1 else union_all(*counts)


def gram_counts(session: Session, grams: Sequence[str]) -> dict[str, int]:
    """Each trigram's number of holders, counted up to ``COMMON_GRAM`` (one statement)."""
    if not grams:
        return {}
    params: dict[str, Any] = {f"g{i}": gram for i, gram in enumerate(grams)}
    return {grams[i]: n for i, n in session.execute(_counts_statement(len(grams)), params)}


def rare_grams(counts: dict[str, int]) -> list[str]:
    """The rarest held trigrams, rarest first: while their holders total at most
    ``GRAM_BUDGET`` (the rarest always, when fewer than ``COMMON_GRAM`` hold it), at most
    ``MAX_GRAMS``. Ties keep the query's order."""
    order = sorted((n, i, g) for i, (g, n) in enumerate(counts.items()) if 0 < n < COMMON_GRAM)
    chosen: list[str] = []
    total = 0
    for n, _i, gram in order[:MAX_GRAMS]:
        if chosen and total + n > GRAM_BUDGET:
            break
        chosen.append(gram)
        total += n
    return chosen


def fuzzy_statement(
    session: Session,
    grams: list[str],
    form: str,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
) -> Any:
    """Entities holding any of ``grams`` (rare ones: at most about ``GRAM_BUDGET`` postings)
    and passing ``where``, most of ``grams`` held first, then the closest in length to
    ``form``, at most ``limit``. The postings are grouped by entity in the index; only the
    ``HOLDERS_READ`` holding most (then the lowest ids) are read from ``entities``, by
    primary key.

    On PostgreSQL the holders come as one array (``= ANY``): joined or ``IN``, the planner
    hash-joined a few hundred postings to a sequential scan of ``entities``. SQLite looks each
    ``IN`` id up by its primary key."""
    holders = (
        select(GRAMS.c.entity_id)
        .where(GRAMS.c.gram.in_(grams))
        .group_by(GRAMS.c.entity_id)
        .order_by(func.count().desc(), GRAMS.c.entity_id)
        .limit(HOLDERS_READ)
    )
    if session.get_bind().dialect.name == "postgresql":
        # the array in parentheses of its own: "= ANY (SELECT ...)" would compare row by row
        best = holders.subquery()
        array = select(func.array_agg(best.c.entity_id)).scalar_subquery()
        found = Entity.id == any_(cast(array, ARRAY(Integer)))
    else:
        found = Entity.id.in_(holders)
    shared = functools.reduce(
        operator.add,
        (case((Entity.search_name.contains(g, autoescape=True), 1), else_=0) for g in grams),
    )
    length_gap = func.abs(func.length(Entity.search_name) - len(form))
    return (
        select(Entity.id, Entity.display_name, Entity.search_name, Entity.search_core)
        .where(found, *where)
        .order_by(shared.desc(), length_gap, Entity.id)
        .limit(limit)
    )


def word_holders(session: Session, word: str, grams: list[str]) -> tuple[list[int], bool]:
    """The first ``WORD_SCAN`` entities, in key order, holding the first of ``grams`` (a word
    of two characters: any trigram starting with it), and whether there may be more."""
    if len(word) == 2:
        holding = (GRAMS.c.gram >= word) & (GRAMS.c.gram < word + _LAST_CHARACTER)
    else:
        holding = GRAMS.c.gram == grams[0]
    statement = (
        select(GRAMS.c.entity_id)
        .where(holding)
        .order_by(GRAMS.c.gram, GRAMS.c.entity_id)
        .limit(literal_column(str(WORD_SCAN)))
    )
    postings = list(session.scalars(statement))
    return list(dict.fromkeys(postings)), len(postings) == WORD_SCAN


def word_statement(
    session: Session, ids: list[int], word: str, where: list[ColumnElement[bool]]
) -> Any:
    """Those of ``ids`` whose name holds ``word`` whole and passes ``where``, by id (on
    PostgreSQL the ids go as one array parameter: hundreds of ``IN`` parameters cost more to
    send than to look up)."""
    if session.get_bind().dialect.name == "postgresql":
        listed = Entity.id == any_(bindparam("word_ids", ids, type_=ARRAY(Integer)))
    else:
        listed = Entity.id.in_(ids)
    return (
        select(Entity.id, Entity.display_name, Entity.search_name, Entity.search_core)
        .where(listed, Entity.search_name.contains(word, autoescape=True), *where)
        .order_by(Entity.id)
    )
