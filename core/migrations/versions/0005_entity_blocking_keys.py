"""entity blocking keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:06:49.395116
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401  (autogenerate renders JSONB(astext_type=Text()))

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_block_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_block_keys_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("key", "entity_id", name=op.f("pk_entity_block_keys")),
    )
    with op.batch_alter_table("entity_block_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entity_block_keys_entity_id"), ["entity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("entity_block_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_block_keys_entity_id"))

    op.drop_table("entity_block_keys")
