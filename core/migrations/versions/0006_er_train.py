"""matching models trained on the service's data; match links record the model version

Revision ID: 0006_er_train
Revises: 0005
Create Date: 2026-12-03 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.models.base

revision: str = "0006_er_train"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "matching_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_models")),
        sa.UniqueConstraint("version", name=op.f("uq_matching_models_version")),
    )
    with op.batch_alter_table("match_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_links", schema=None) as batch_op:
        batch_op.drop_column("model_version")
    op.drop_table("matching_models")
