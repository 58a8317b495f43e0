"""credit checks and feedback

Revision ID: 0008_credit_checks
Revises: 0007_golden_authority
Create Date: 2026-12-03 13:22:42.382644
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import core.models.base

revision: str = "0008_credit_checks"
down_revision: str | None = "0007_golden_authority"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("matter", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("identifier", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_credit_checks_client_id_api_clients")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_credit_checks_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_credit_checks_entity_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_checks")),
    )
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_checks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_credit_checks_department_created", ["department_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_checks_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_checks_matter"), ["matter"], unique=False)

    op.create_table(
        "credit_check_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=64), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["credit_checks.id"],
            name=op.f("fk_credit_check_feedback_check_id_credit_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_clients.id"],
            name=op.f("fk_credit_check_feedback_client_id_api_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_check_feedback")),
        sa.UniqueConstraint(
            "check_id", "measure_code", name=op.f("uq_credit_check_feedback_check_id_measure_code")
        ),
    )
    with op.batch_alter_table("credit_check_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_check_feedback_check_id"), ["check_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_check_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_check_feedback_check_id"))

    op.drop_table("credit_check_feedback")
    with op.batch_alter_table("credit_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_checks_matter"))
        batch_op.drop_index(batch_op.f("ix_credit_checks_entity_id"))
        batch_op.drop_index("ix_credit_checks_department_created")
        batch_op.drop_index(batch_op.f("ix_credit_checks_created_at"))

    op.drop_table("credit_checks")
