"""credit repair and objections

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:30:23.174844
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_record_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "content",
                "period",
                "repair_result",
                name="objectionkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("raised_by_name", sa.String(length=200), nullable=False),
        sa.Column("raised_by_contact", sa.String(length=200), nullable=True),
        sa.Column("raised_by_client_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "corrected",
                "upheld",
                name="objectionstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "record_status_before",
            sa.Enum(
                "active",
                "repaired",
                "expired",
                "revoked",
                "disputed",
                name="creditstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("raised_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_client_id", sa.Integer(), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_client_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_objections_answered_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_objections_closed_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_record_id"],
            ["credit_records.id"],
            name=op.f("fk_objections_credit_record_id_credit_records"),
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_objections_raised_by_client_id_api_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objections_credit_record_id"), ["credit_record_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_objections_status"), ["status"], unique=False)

    op.create_table(
        "repair_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_record_id", sa.Integer(), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_contact", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "rejected",
                name="repairstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_client_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_client_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credit_record_id"],
            ["credit_records.id"],
            name=op.f("fk_repair_applications_credit_record_id_credit_records"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_repair_applications_decided_by_client_id_api_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_client_id"],
            ["api_clients.id"],
            name=op.f("fk_repair_applications_submitted_by_client_id_api_clients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
    )
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_applications_credit_record_id"),
            ["credit_record_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_repair_applications_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_applications_status"))
        batch_op.drop_index(batch_op.f("ix_repair_applications_credit_record_id"))

    op.drop_table("repair_applications")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_status"))
        batch_op.drop_index(batch_op.f("ix_objections_credit_record_id"))

    op.drop_table("objections")
