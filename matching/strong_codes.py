"""The hard rule of entity resolution: two parties holding different *valid* USCCs (or
different valid resident id numbers) are never the same entity.

One rule for every place that applies it: linking a record at ingest (the record's
:class:`~matching.exact.PartyKeys` against an entity's identifiers) and a regulator's merge (the
stored identifiers of one merge group against the other's). Each caller reads the strong codes
of both sides from its own source; the rule only sees sets of codes per kind. Pure: sets in,
explained conflicts out.

The matcher's own test (``matching.model.quick_rule``, and the fuzzy linker's pre-check that
mirrors it) is a different question: whether two records share *no* valid code of a kind. The
two agree whenever a side holds one code of the kind; they differ when a side holds several
(an entity that already gathered two USCCs conflicts here with a record holding one of them,
but not for the matcher).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

__all__ = ["STRONG_KINDS", "StrongCodes", "StrongConflict", "strong_conflicts"]

# The kinds of code the rule compares, by their stored names (``IdentifierType`` values).
STRONG_KINDS = ("uscc", "resident_id")

# One side's valid codes by kind (one of STRONG_KINDS); a missing kind holds none.
StrongCodes = Mapping[str, AbstractSet[str]]


@dataclass(frozen=True, slots=True)
class StrongConflict:
    """Both sides hold valid codes of ``kind``, and not the same ones."""

    kind: str
    ours: frozenset[str]
    theirs: frozenset[str]

    @property
    def theirs_only(self) -> frozenset[str]:
        """The codes the other side holds and this one does not (empty only when this side
        holds every code the other does, and more)."""
        return self.theirs - self.ours

    @property
    def why(self) -> str:
        """The conflict in a sentence, naming the smallest code of each side."""
        return (
            f"different valid {self.kind} ({min(self.ours)} vs {min(self.theirs)}): "
            "never the same entity"
        )


def strong_conflicts(ours: StrongCodes, theirs: StrongCodes) -> tuple[StrongConflict, ...]:
    """Why the two sides can never be the same entity: one conflict per kind of which both
    hold valid codes and the codes differ, in the order of ``ours``; empty if none."""
    found: tuple[StrongConflict, ...] = ()
    for kind, our_codes in ours.items():
        their_codes = theirs.get(kind)
        # The usual answer (no conflict) only compares the sets and builds nothing (the empty
        # tuple is shared): ingest asks it for every candidate of every record.
        if our_codes and their_codes and our_codes != their_codes:
            found += (StrongConflict(kind, frozenset(our_codes), frozenset(their_codes)),)
    return found
