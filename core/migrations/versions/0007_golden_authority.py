"""golden record by authority: feeds.golden_authority, entity_attributes.basis

Revision ID: 0007_golden_authority
Revises: 0006_er_train
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_golden_authority"
down_revision: str | None = "0006_er_train"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("golden_authority", sa.Integer(), nullable=True))
    with op.batch_alter_table("entity_attributes") as batch:
        batch.add_column(sa.Column("basis", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entity_attributes") as batch:
        batch.drop_column("basis")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("golden_authority")
