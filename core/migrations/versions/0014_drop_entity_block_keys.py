"""drop entity_block_keys: the one engine blocks on record_block_keys (0013)

Revision ID: 0014_drop_entity_block_keys
Revises: 0013_record_match_views
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_drop_entity_block_keys"
down_revision: str | None = "0013_record_match_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nothing has written these keys since linking moved to record_block_keys; the rows are
    # derived data, so dropping them loses nothing.
    with op.batch_alter_table("entity_block_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_block_keys_entity_id"))
    op.drop_table("entity_block_keys")


def downgrade() -> None:
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
