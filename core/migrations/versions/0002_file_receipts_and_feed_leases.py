"""file receipts and feed leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:10:36.872203
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_leases",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("acquired_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_feed_leases_feed_id_feeds")
        ),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_feed_leases")),
    )
    op.create_table(
        "ingested_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ingest_run_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_ingested_files_feed_id_feeds")
        ),
        sa.ForeignKeyConstraint(
            ["ingest_run_id"],
            ["ingest_runs.id"],
            name=op.f("fk_ingested_files_ingest_run_id_ingest_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingested_files")),
        sa.UniqueConstraint(
            "feed_id", "name", "sha256", name=op.f("uq_ingested_files_feed_id_name_sha256")
        ),
    )


def downgrade() -> None:
    op.drop_table("ingested_files")
    op.drop_table("feed_leases")
