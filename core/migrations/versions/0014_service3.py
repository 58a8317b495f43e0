"""matching models: how far the records linked before a model have been re-decided with it

Revision ID: 0014_service3
Revises: 0013_record_match_views
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_service3"
down_revision: str | None = "0013_record_match_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matching_models") as batch:
        # The last source record linked before the model was stored (re-decided with it by
        # resolution.relinking), and the last one re-decided so far.
        batch.add_column(sa.Column("relink_until", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("relinked_through", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matching_models") as batch:
        batch.drop_column("relinked_through")
        batch.drop_column("relink_until")
