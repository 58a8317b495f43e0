"""record match views and record blocking keys (one engine for ingest and resolve)

Revision ID: 0013_record_match_views
Revises: 0012_name_search
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_record_match_views"
down_revision: str | None = "0012_name_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_match_views",
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column(
            "view",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_record_match_views_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_record_match_views_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("source_record_id", name=op.f("pk_record_match_views")),
    )
    with op.batch_alter_table("record_match_views", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_match_views_entity_id"), ["entity_id"], unique=False
        )
    op.create_table(
        "record_block_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_record_block_keys_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("key", "source_record_id", name=op.f("pk_record_block_keys")),
    )


def downgrade() -> None:
    op.drop_table("record_block_keys")
    with op.batch_alter_table("record_match_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_match_views_entity_id"))
    op.drop_table("record_match_views")
