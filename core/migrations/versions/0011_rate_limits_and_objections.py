"""rate-limit counters; objections received before they are accepted for handling

Revision ID: 0011_rate_limits
Revises: 0010_push_keys
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0011_rate_limits"
down_revision: str | None = "0010_push_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = ("open", "answered", "corrected", "upheld")
_NEW_STATUSES = ("received", *_OLD_STATUSES)
_STATUS_CHECK = "objectionstatus"


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_counters_expires_at"), ["expires_at"], unique=False
        )
    _objections(_NEW_STATUSES, add_columns=True)


def downgrade() -> None:
    op.execute("UPDATE objections SET status = 'open' WHERE status = 'received'")
    _objections(_OLD_STATUSES, add_columns=False)
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counters_expires_at"))
    op.drop_table("rate_limit_counters")


def _objections(statuses: Sequence[str], *, add_columns: bool) -> None:
    # The status column's CHECK constraint lists the statuses: it is replaced. On SQLite the
    # batch copies the table; the status column is reflected as plain text so the old
    # constraint is not carried over.
    with op.batch_alter_table(
        "objections",
        schema=None,
        recreate="auto",
        reflect_args=(sa.Column("status", sa.String(length=32), nullable=False),),
    ) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(op.f(f"ck_objections_{_STATUS_CHECK}"), type_="check")
        batch_op.create_check_constraint(_STATUS_CHECK, _status_check(statuses))
        if add_columns:
            batch_op.add_column(
                sa.Column("accepted_at", core.models.base.UTCDateTime(timezone=True))
            )
            batch_op.add_column(sa.Column("accepted_by_client_id", sa.Integer()))
            batch_op.create_foreign_key(
                batch_op.f("fk_objections_accepted_by_client_id_api_clients"),
                "api_clients",
                ["accepted_by_client_id"],
                ["id"],
            )
        else:
            batch_op.drop_constraint(
                batch_op.f("fk_objections_accepted_by_client_id_api_clients"), type_="foreignkey"
            )
            batch_op.drop_column("accepted_by_client_id")
            batch_op.drop_column("accepted_at")
