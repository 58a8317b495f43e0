"""entity review queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:01:41.133093
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("candidate_entity_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "explanation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "rejected",
                name="reviewstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_client_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_entity_id"],
            ["entities.id"],
            name=op.f("fk_entity_reviews_candidate_entity_id_entities"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_entity_reviews_decided_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_reviews_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_reviews")),
    )
    with op.batch_alter_table("entity_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entity_reviews_pair", ["entity_id", "candidate_entity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entity_reviews_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entity_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_reviews_status"))
        batch_op.drop_index("ix_entity_reviews_pair")

    op.drop_table("entity_reviews")
