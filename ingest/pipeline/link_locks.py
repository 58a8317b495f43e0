"""Two batches linking at once on PostgreSQL must not both create the entity of one new code.

Linking reads the candidates of a batch's records, decides in memory and writes at the end
(``resolution.linking``). Under read committed, two transactions (two feeds run by two
processes, two pushes) that both bring a company whose USCC no entity holds yet both find no
candidate and both create an entity: seen in tests/ingest/test_parallel_feeds.py, two feeds
about the same 30 companies made 60 entities, merged again only when a later record happened
to name both. On SQLite this cannot happen: a batch takes the database's one write lock with
its first write (its source records), before linking reads anything.

So on PostgreSQL a batch first takes a transaction-level advisory lock for each valid USCC or
resident id it brings that no entity holds yet, in sorted order (waits never form a cycle),
before linking reads: the second of two batches bringing the same new code waits until the
first commits, then finds its entity. Codes already held by an entity need no lock (both
batches find the entity). Codes map onto ``BUCKETS`` lock keys, so a batch holds at most that
many locks (PostgreSQL's lock table is shared and fixed in size): two batches sharing a bucket
but no code wait on each other needlessly, never wrongly. Records without a strong code (names
only) are not covered: two of them may still make two entities that a later record merges.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.models import EntityIdentifier, IdentifierType
from matching.exact import PartyKeys

# At most this many locks a batch; the two-key form's first key keeps them apart from any
# other user of advisory locks ("CH" and 1).
BUCKETS = 512
_LOCK_SPACE = 0x43480001
_IN_CHUNK = 500


def lock_new_codes(session: Session, keys: Iterable[PartyKeys]) -> int:
    """On PostgreSQL, wait for and take the locks of the strong codes in ``keys`` that no
    entity holds yet (held until the transaction ends); returns how many locks were taken.
    Nothing to do on other backends."""
    if session.connection().dialect.name != "postgresql":
        return 0
    codes = {(IdentifierType(kind), value) for k in keys for kind, value in k.strong.items()}
    new = codes - _stored(session, codes)
    buckets = sorted(
        {zlib.crc32(f"{kind.value}:{value}".encode()) % BUCKETS for kind, value in new}
    )
    if buckets:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS int[])) AS k"),
            {"space": _LOCK_SPACE, "keys": buckets},
        )
    return len(buckets)


def _stored(
    session: Session, codes: set[tuple[IdentifierType, str]]
) -> set[tuple[IdentifierType, str]]:
    """Which of ``codes`` some entity holds already (by the identifiers' look-up index)."""
    table = EntityIdentifier.__table__.c
    found: set[tuple[IdentifierType, str]] = set()
    for kind in {k for k, _ in codes}:
        values = sorted(v for k, v in codes if k is kind)
        for start in range(0, len(values), _IN_CHUNK):
            rows = session.scalars(
                select(table.value)
                .where(table.id_type == kind, table.value.in_(values[start : start + _IN_CHUNK]))
                .distinct()
            )
            found.update((kind, value) for value in rows)
    return found
