"""push records keyed by source_id; file drops set aside with their reason

Revision ID: 0010_push_keys
Revises: 0009_credit_subscriptions
Create Date: 2026-12-03 13:30:00

Push feeds keyed their records by the feed mapping's key column (the penalty preset's
decision number) instead of the item's ``source_id``: two parties pushed under one decision
number became two versions of one record, and the first party's credit record was taken
over by the second. The push adapter now keys by ``source_id``; this revision re-keys what
push feeds stored the same way:

* every source record of a push feed gets the key of its payload's ``source_id`` (records
  without one, ``unreadable:...``, keep theirs), versions renumbered per key in arrival order,
  ``supersedes_id`` pointing at the previous stored (non-quarantined) version of that key;
* in each key the latest stored version is ``accepted`` and earlier ones ``superseded``; a
  version that was superseded only because another source id shared its decision number has
  lost its credit record, so it goes to the quarantine with a note saying so:
  ``credithub ingest replay FEED`` stores it again, linked to its own party;
* when one source id was stored as several accepted records (its decision number corrected
  in a later push), the latest keeps its credit record and the earlier credit records are
  marked ``revoked`` (replaced by the corrected record), as a new version would have done.

``ingested_files.set_aside_reason`` is new: a file drop that could not be read is recorded
with the reason, and tried again only when its content changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010_push_keys"
down_revision: str | None = "0009_credit_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REKEYED = (
    "re-keyed by source_id (migration 0010_push_keys): another record with the same decision "
    "number had replaced this one; replay the feed (credithub ingest replay FEED) to store it"
)


def upgrade() -> None:
    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("set_aside_reason", sa.Text(), nullable=True))
    _rekey_push_records(op.get_bind())


def downgrade() -> None:
    # The re-keying is not undone: source_id keys are what the push API always documented.
    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.drop_column("set_aside_reason")


def _storable_key(key: str) -> str:
    """A copy of ``ingest.pipeline.plan._storable_key`` as of this revision (a migration
    must not change when the code does)."""
    if len(key) <= 200:
        return key
    return f"{key[:128]}…sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def _key_of(payload: Any, old_key: str) -> str:
    source_id = payload.get("source_id") if isinstance(payload, dict) else None
    if old_key.startswith("unreadable:") or isinstance(source_id, bool):
        return old_key
    if isinstance(source_id, int) or (isinstance(source_id, str) and source_id.strip()):
        return _storable_key(str(source_id).strip())
    return old_key


def _rekey_push_records(bind: sa.Connection) -> None:
    meta = sa.MetaData()
    feeds = sa.Table("feeds", meta, autoload_with=bind)
    records = sa.Table("source_records", meta, autoload_with=bind)
    credits = sa.Table("credit_records", meta, autoload_with=bind)
    push_feeds = bind.execute(sa.select(feeds.c.id).where(feeds.c.adapter == "push")).scalars()
    for feed_id in list(push_feeds):
        _rekey_feed(bind, records, credits, feed_id)


def _rekey_feed(bind: sa.Connection, records: sa.Table, credits: sa.Table, feed_id: int) -> None:
    rows = bind.execute(
        sa.select(
            records.c.id,
            records.c.source_key,
            records.c.raw_payload,
            records.c.status,
            records.c.errors,
        )
        .where(records.c.feed_id == feed_id)
        .order_by(records.c.id)
    ).all()
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(_key_of(row.raw_payload, row.source_key), []).append(row)
    changes, replaced = _plan_changes(groups)
    if not changes:
        return
    by_id = records.c.id == sa.bindparam("b_id")
    # Out of the way first: a new (key, version) may be an old row's until that row moves.
    bind.execute(
        records.update().where(by_id).values(source_key=sa.bindparam("b_key")),
        [{"b_id": c["b_id"], "b_key": f"migrating:{c['b_id']}"} for c in changes],
    )
    bind.execute(
        records.update()
        .where(by_id)
        .values(
            source_key=sa.bindparam("b_key"),
            version=sa.bindparam("b_version"),
            status=sa.bindparam("b_status"),
            supersedes_id=sa.bindparam("b_supersedes"),
            errors=sa.bindparam("b_errors", type_=records.c.errors.type),
        ),
        changes,
    )
    if replaced:
        bind.execute(
            credits.update()
            .where(credits.c.source_record_id.in_(replaced))
            .values(status="revoked")
        )


def _plan_changes(groups: dict[str, list[Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The new key, version, status and predecessor of every row of a push feed, and the
    accepted rows another accepted row of their source id replaces (their credit records)."""
    changes: list[dict[str, Any]] = []
    replaced: list[int] = []
    for key, rows in groups.items():
        stored = [r for r in rows if r.status != "quarantined"]
        head = stored[-1].id if stored else None
        previous: int | None = None
        for version, row in enumerate(rows, start=1):
            status: str = row.status
            errors: Any = row.errors
            supersedes: int | None = None
            if row.status != "quarantined":
                supersedes = previous
                previous = row.id
                if row.id != head:
                    status = "superseded"
                    if row.status == "accepted":
                        replaced.append(row.id)
                elif row.status == "superseded":
                    # Its credit record went to another source id's record.
                    status, errors = "quarantined", {"_record": [REKEYED]}
                else:
                    status = "accepted"
            change = {
                "b_id": row.id,
                "b_key": key,
                "b_version": version,
                "b_status": status,
                "b_supersedes": supersedes,
                "b_errors": errors,
            }
            changes.append(change)
    return changes, replaced
