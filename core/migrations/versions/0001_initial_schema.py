"""initial schema, and triggers that keep the audit trail append-only

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:52:52.796058
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import core.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The audit trail must not change whoever connects (psql, another service), so the database
# itself refuses UPDATE and DELETE on it, not only the ORM.
_SQLITE_AUDIT_TRIGGERS = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
_POSTGRES_AUDIT_TRIGGERS = [
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]


def _create_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_AUDIT_TRIGGERS, "postgresql": _POSTGRES_AUDIT_TRIGGERS}
    for statement in statements.get(dialect, []):
        op.execute(statement)


def _drop_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def upgrade() -> None:

    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "legal_entity",
                "individual_business",
                "natural_person",
                "other_organization",
                name="entitykind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["entities.id"], name=op.f("fk_entities_merged_into_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint("public_id", name=op.f("uq_entities_public_id")),
    )
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entities_display_name"), ["display_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_entities_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_entities_region_code"), ["region_code"], unique=False)

    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "regulator",
                "department",
                "analyst",
                "public",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_api_clients_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column(
            "record_category",
            sa.Enum(
                "licensing",
                "penalty",
                "list_entry",
                "red_list",
                "tax_grade",
                "customs_rating",
                "registry",
                name="recordcategory",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "data_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("update_cycle", sa.String(length=32), nullable=True),
        sa.Column(
            "sharing_type",
            sa.Enum(
                "unconditional",
                "conditional",
                "not_shared",
                name="sharingtype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "sharing_conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sharing_method", sa.String(length=64), nullable=True),
        sa.Column("open_data", sa.String(length=64), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column(
            "adapter",
            sa.Enum(
                "file_drop",
                "http_pull",
                "exchange_db",
                "push",
                name="adapterkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "adapter_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "field_mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("watermark", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_feeds_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("code", name=op.f("uq_feeds_code")),
    )
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feeds_department_id"), ["department_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_clients.id"], name=op.f("fk_audit_events_client_id_api_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index("ix_audit_events_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("started_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                name="ingestrunstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("new_entities", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_ingest_runs_feed_id_feeds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
    )
    with op.batch_alter_table("ingest_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_runs_feed_id"), ["feed_id"], unique=False)

    op.create_table(
        "source_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("ingest_run_id", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "raw_payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "accepted",
                "duplicate",
                "superseded",
                "quarantined",
                name="sourcestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("origin", sa.String(length=500), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_source_records_feed_id_feeds")
        ),
        sa.ForeignKeyConstraint(
            ["ingest_run_id"],
            ["ingest_runs.id"],
            name=op.f("fk_source_records_ingest_run_id_ingest_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["source_records.id"],
            name=op.f("fk_source_records_supersedes_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "feed_id",
            "source_key",
            "version",
            name=op.f("uq_source_records_feed_id_source_key_version"),
        ),
    )
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_source_records_feed_key_hash",
            ["feed_id", "source_key", "payload_hash"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_source_records_ingest_run_id"), ["ingest_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_source_records_status"), ["status"], unique=False)

    op.create_table(
        "credit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("link_confidence", sa.Float(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "licensing",
                "penalty",
                "list_entry",
                "red_list",
                "tax_grade",
                "customs_rating",
                "registry",
                name="recordcategory",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subtype", sa.String(length=64), nullable=True),
        sa.Column(
            "severity",
            sa.Enum(
                "minor",
                "general",
                "serious",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "status",
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
        sa.Column("party_name", sa.String(length=300), nullable=False),
        sa.Column("decision_number", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("publicity_end", sa.Date(), nullable=True),
        sa.Column("authority_name", sa.String(length=300), nullable=True),
        sa.Column("authority_uscc", sa.String(length=18), nullable=True),
        sa.Column("fine_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("confiscated_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("list_name", sa.String(length=100), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_credit_records_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_credit_records_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_credit_records_feed_id_feeds")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_credit_records_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_records")),
        sa.UniqueConstraint("source_record_id", name=op.f("uq_credit_records_source_record_id")),
    )
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.create_index("ix_credit_records_decision_date", ["decision_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_records_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            "ix_credit_records_entity_category", ["entity_id", "category"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credit_records_feed_id"), ["feed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_records_status"), ["status"], unique=False)

    op.create_table(
        "entity_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("source_record_id", sa.Integer(), nullable=True),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_attributes_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_entity_attributes_feed_id_feeds")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_entity_attributes_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_attributes")),
    )
    with op.batch_alter_table("entity_attributes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entity_attributes_current", ["entity_id", "field", "is_current"], unique=False
        )

    op.create_table(
        "entity_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column(
            "id_type",
            sa.Enum(
                "uscc",
                "org_code",
                "registration_number",
                "taxpayer_number",
                "resident_id",
                "masked_id",
                "other",
                name="identifiertype",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.String(length=300), nullable=True),
        sa.Column("source_record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_entity_identifiers_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_entity_identifiers_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_identifiers")),
        sa.UniqueConstraint(
            "entity_id",
            "id_type",
            "value",
            name=op.f("uq_entity_identifiers_entity_id_id_type_value"),
        ),
    )
    with op.batch_alter_table("entity_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entity_identifiers_entity_id"), ["entity_id"], unique=False
        )
        batch_op.create_index("ix_entity_identifiers_lookup", ["id_type", "value"], unique=False)

    op.create_table(
        "match_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "positive",
                "negative",
                "unsure",
                name="matchdecision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "explanation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column(
            "decided_by",
            sa.Enum(
                "rule",
                "reviewer",
                name="decidedby",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", core.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", core.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_match_links_entity_id_entities")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_id"],
            ["source_records.id"],
            name=op.f("fk_match_links_source_record_id_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_links")),
    )
    with op.batch_alter_table("match_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_match_links_decision", ["decision", "superseded_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_match_links_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(
            "ix_match_links_record_current", ["source_record_id", "superseded_at"], unique=False
        )
    _create_audit_triggers()


def downgrade() -> None:
    _drop_audit_triggers()

    with op.batch_alter_table("match_links", schema=None) as batch_op:
        batch_op.drop_index("ix_match_links_record_current")
        batch_op.drop_index(batch_op.f("ix_match_links_entity_id"))
        batch_op.drop_index("ix_match_links_decision")

    op.drop_table("match_links")
    with op.batch_alter_table("entity_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_identifiers_lookup")
        batch_op.drop_index(batch_op.f("ix_entity_identifiers_entity_id"))

    op.drop_table("entity_identifiers")
    with op.batch_alter_table("entity_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_attributes_current")

    op.drop_table("entity_attributes")
    with op.batch_alter_table("credit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_records_status"))
        batch_op.drop_index(batch_op.f("ix_credit_records_feed_id"))
        batch_op.drop_index("ix_credit_records_entity_category")
        batch_op.drop_index(batch_op.f("ix_credit_records_department_id"))
        batch_op.drop_index("ix_credit_records_decision_date")

    op.drop_table("credit_records")
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_records_status"))
        batch_op.drop_index(batch_op.f("ix_source_records_ingest_run_id"))
        batch_op.drop_index("ix_source_records_feed_key_hash")

    op.drop_table("source_records")
    with op.batch_alter_table("ingest_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_runs_feed_id"))

    op.drop_table("ingest_runs")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_target")
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeds_department_id"))

    op.drop_table("feeds")
    op.drop_table("api_clients")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entities_region_code"))
        batch_op.drop_index(batch_op.f("ix_entities_kind"))
        batch_op.drop_index(batch_op.f("ix_entities_display_name"))

    op.drop_table("entities")
    op.drop_table("departments")
