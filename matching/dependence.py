"""Comparisons that repeat another's evidence: a birth date or gender read from the same id
the identifier comparison already found shared.

A person's birth date and gender are read from a valid resident id first, then from a masked
one (:func:`matching.records.prepare`). Two records with the same resident id therefore
always agree on both, and a masked id that fits a full one agrees on the sex digit it shows
(and on the date digits, when it shows them). Fellegi-Sunter multiplies the evidence of each
comparison as if independent: counting the id and what was read from it would count one fact
two or three times, and a model trained on such pairs learns m near 1 for the copies, which
makes weights of 15-20 bits out of one coincidence. Those levels become ``implied``: the hand
set weights give them the weight ``exact`` had (their decisions stay as they were), a trained
model gives them none (:mod:`matching.training`).

Written by hand: it is a rule about this project's comparators.
"""

from __future__ import annotations

from .compare import EXACT, Comparison
from .records import Prepared

__all__ = ["IMPLIED", "implied_fields", "without_double_counting"]

IMPLIED = "implied"
_BOTH = frozenset({"birth_date", "gender"})
_GENDER = frozenset({"gender"})
_NONE: frozenset[str] = frozenset()


def implied_fields(identifier_level: str, a: Prepared, b: Prepared) -> frozenset[str]:
    """The fields whose agreement the identifier comparison at ``identifier_level`` already
    holds: birth date and gender for one shared resident id; the gender for a masked id that
    fits (its sex digit is shown), and the birth date too when a mask shows the date."""
    if identifier_level == EXACT:
        return _BOTH if a.resident_ids & b.resident_ids else _NONE
    if identifier_level == "masked":
        shows_date = any(m.birth_date is not None for m in (*a.masked, *b.masked))
        return _BOTH if shows_date else _GENDER
    return _NONE


def without_double_counting(
    comparisons: tuple[Comparison, ...], a: Prepared, b: Prepared
) -> tuple[Comparison, ...]:
    """``comparisons`` (identifiers first) with each agreement the identifier implies turned
    into an ``implied`` level; anything else unchanged (the same tuple when nothing is)."""
    fields = implied_fields(comparisons[0].level, a, b)
    if not fields:
        return comparisons
    return tuple(
        Comparison(c.field, IMPLIED, c.score, c.why + " (read from the same id)")
        if c.field in fields and c.level == EXACT
        else c
        for c in comparisons
    )
