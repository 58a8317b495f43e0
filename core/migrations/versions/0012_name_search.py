"""name search from indexes: search columns on entities, a trigram index of their names;
the merge group by index

SQLite: an FTS5 table with the trigram tokenizer over ``entities.search_name`` (external
content, kept by triggers, so every write of the column, ORM or Core, keeps it). PostgreSQL: the
``pg_trgm`` extension and a GIN index of ``search_name``. Both: b-tree indexes of
``search_name`` and ``search_core`` for exact and prefix look-ups (names shorter than a trigram),
and of ``merged_into_id`` (a profile reads the group merged into an entity); expression indexes
of identifiers' organization-code part and last four characters (search by an old code or a
masked id).

A later migration that rebuilds ``entities`` on SQLite (batch mode's copy-and-move) drops the
triggers with the old table: it must create them again (``SQLITE_FTS_TRIGGERS``).

Revision ID: 0012_name_search
Revises: 0011_rate_limits
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from matching.search_names import SEARCH_KEY_LENGTH, search_keys

revision: str = "0012_name_search"
down_revision: str | None = "0011_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000

SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE entity_names_fts USING fts5("
    "search_name, content='entities', content_rowid='id', tokenize='trigram')"
)
SQLITE_FTS_TRIGGERS = [
    """CREATE TRIGGER entity_names_fts_insert AFTER INSERT ON entities BEGIN
        INSERT INTO entity_names_fts(rowid, search_name) VALUES (new.id, new.search_name);
    END""",
    """CREATE TRIGGER entity_names_fts_delete AFTER DELETE ON entities BEGIN
        INSERT INTO entity_names_fts(entity_names_fts, rowid, search_name)
        VALUES ('delete', old.id, old.search_name);
    END""",
    """CREATE TRIGGER entity_names_fts_update AFTER UPDATE OF search_name ON entities BEGIN
        INSERT INTO entity_names_fts(entity_names_fts, rowid, search_name)
        VALUES ('delete', old.id, old.search_name);
        INSERT INTO entity_names_fts(rowid, search_name) VALUES (new.id, new.search_name);
    END""",
]
# Identifier look-ups by part of a code (app.entities.search.org_code_part and tail_part): the
# same SQL on both databases; the queries spell the expressions the same way.
CODE_PART_INDEXES = [
    "CREATE INDEX ix_entity_identifiers_org_part ON entity_identifiers (substr(value, 9, 9))",
    "CREATE INDEX ix_entity_identifiers_tail ON entity_identifiers "
    "(substr(value, length(value) - 3))",
]
POSTGRES_TRIGRAM_INDEX = (
    "CREATE INDEX ix_entities_search_name_trgm ON entities USING gin (search_name gin_trgm_ops)"
)


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.String(SEARCH_KEY_LENGTH).with_variant(
        sa.String(SEARCH_KEY_LENGTH, collation="C"), "postgresql"
    )


def _fill_search_columns() -> None:
    """Existing names get their search forms (computed in Python: OpenCC, the region table)."""
    connection = op.get_bind()
    entities = sa.table(
        "entities",
        sa.column("id", sa.Integer),
        sa.column("display_name", sa.String),
        sa.column("search_name", sa.String),
        sa.column("search_core", sa.String),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(entities.c.id, entities.c.display_name)
            .where(entities.c.id > last)
            .order_by(entities.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = []
        for entity_id, name in rows:
            search_name, search_core = search_keys(name)
            values.append({"b_id": entity_id, "b_name": search_name, "b_core": search_core})
        connection.execute(
            entities.update()
            .where(entities.c.id == sa.bindparam("b_id"))
            .values(search_name=sa.bindparam("b_name"), search_core=sa.bindparam("b_core")),
            values,
        )
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", _key_type(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("search_core", _key_type(), nullable=False, server_default="")
        )
    _fill_search_columns()
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entities_search_name"), ["search_name"])
        batch_op.create_index(batch_op.f("ix_entities_search_core"), ["search_core"])
        batch_op.create_index(batch_op.f("ix_entities_merged_into_id"), ["merged_into_id"])
    for statement in CODE_PART_INDEXES:
        op.execute(statement)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_FTS_TABLE)
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO entity_names_fts(entity_names_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(POSTGRES_TRIGRAM_INDEX)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_entity_identifiers_org_part")
    op.execute("DROP INDEX IF EXISTS ix_entity_identifiers_tail")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS entity_names_fts_{name}")
        op.execute("DROP TABLE IF EXISTS entity_names_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_entities_search_name_trgm")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entities_merged_into_id"))
        batch_op.drop_index(batch_op.f("ix_entities_search_core"))
        batch_op.drop_index(batch_op.f("ix_entities_search_name"))
        batch_op.drop_column("search_core")
        batch_op.drop_column("search_name")
