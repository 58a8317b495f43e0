"""matching models: how far the records linked before a model have been re-decided with it;
reviews a newer model withdrew

Revision ID: 0015_auto_training
Revises: 0014_drop_entity_block_keys
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_auto_training"
down_revision: str | None = "0014_drop_entity_block_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = ("pending", "confirmed", "rejected")
_NEW_STATUSES = (*_OLD_STATUSES, "withdrawn")
_STATUS_CHECK = "reviewstatus"


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    with op.batch_alter_table("matching_models") as batch:
        # The last source record linked before the model was stored (re-decided with it by
        # resolution.relinking), and the last one re-decided so far.
        batch.add_column(sa.Column("relink_until", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("relinked_through", sa.Integer(), nullable=True))
    _review_statuses(_NEW_STATUSES)


def downgrade() -> None:
    op.execute("UPDATE entity_reviews SET status = 'pending' WHERE status = 'withdrawn'")
    _review_statuses(_OLD_STATUSES)
    with op.batch_alter_table("matching_models") as batch:
        batch.drop_column("relinked_through")
        batch.drop_column("relink_until")


def _review_statuses(statuses: Sequence[str]) -> None:
    # The status column's CHECK constraint lists the statuses: it is replaced (as 0011 does for
    # objections). On SQLite the batch copies the table; the status column is reflected as
    # plain text so the old constraint is not carried over.
    with op.batch_alter_table(
        "entity_reviews",
        schema=None,
        recreate="auto",
        reflect_args=(sa.Column("status", sa.String(length=32), nullable=False),),
    ) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(op.f(f"ck_entity_reviews_{_STATUS_CHECK}"), type_="check")
        batch_op.create_check_constraint(_STATUS_CHECK, _status_check(statuses))
