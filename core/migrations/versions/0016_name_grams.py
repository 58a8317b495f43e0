"""name search by trigram postings: a (gram, entity_id) table kept by triggers, replacing the
FTS5 table (SQLite) and the pg_trgm GIN index (PostgreSQL)

Why: counting each query trigram's holders through pg_trgm's GIN index rechecks every holder in
the heap (20-35 ms at 100,000 names), and FTS5's ranking took about 20 ms; both grow with the
table. ``entity_name_grams`` holds one row per distinct trigram of each entity's
``search_name``, keyed ``(gram, entity_id)``: counting a trigram's holders up to a cap, and
reading the holders of the rarest few, are range reads of that key (an index-only scan on
PostgreSQL, a WITHOUT ROWID b-tree on SQLite), bounded by a LIMIT whatever the table holds.

Triggers on ``entities`` keep it in the writing transaction, whatever writes a name (the ORM,
ingest's Core batches, the benchmarks' bulk builder, raw SQL); merged entities keep their rows
(search filters them out by ``merged_into_id``). SQLite triggers may not use a recursive CTE,
so they take the positions 1..298 from the small constant table ``name_gram_positions``;
PostgreSQL's are statement-level with transition tables (one insert per statement, not per row).

A later migration that rebuilds ``entities`` on SQLite (batch mode's copy-and-move) drops the
triggers with the old table: it must create them again (``SQLITE_GRAM_TRIGGERS``).

Revision ID: 0016_name_grams
Revises: 0015_auto_training
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from matching.search_names import SEARCH_KEY_LENGTH, TRIGRAM

revision: str = "0016_name_grams"
down_revision: str | None = "0015_auto_training"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LAST_START = SEARCH_KEY_LENGTH - TRIGRAM + 1

# SQLite: the trigrams of a row's search_name, for the trigger bodies ({row} is new or old).
_SQLITE_GRAMS = (
    "SELECT substr({row}.search_name, n, 3) AS gram, {row}.id AS entity_id "
    "FROM name_gram_positions WHERE n <= length({row}.search_name) - 2"
)
_SQLITE_INSERT = "INSERT OR IGNORE INTO entity_name_grams (gram, entity_id) " + _SQLITE_GRAMS
_SQLITE_DELETE = (
    "DELETE FROM entity_name_grams WHERE entity_id = old.id AND gram IN "
    "(SELECT gram FROM (" + _SQLITE_GRAMS.format(row="old") + "))"
)
SQLITE_GRAM_TRIGGERS = [
    f"""CREATE TRIGGER entity_name_grams_insert AFTER INSERT ON entities BEGIN
        {_SQLITE_INSERT.format(row="new")};
    END""",
    f"""CREATE TRIGGER entity_name_grams_delete AFTER DELETE ON entities BEGIN
        {_SQLITE_DELETE};
    END""",
    f"""CREATE TRIGGER entity_name_grams_update AFTER UPDATE OF search_name ON entities
    WHEN old.search_name IS NOT new.search_name BEGIN
        {_SQLITE_DELETE};
        {_SQLITE_INSERT.format(row="new")};
    END""",
]

# PostgreSQL: the trigrams of the rows of a transition table.
_PG_GRAMS = (
    "SELECT DISTINCT substr(r.search_name, n, 3) AS gram, r.id AS entity_id "
    "FROM {rows} AS r, generate_series(1, length(r.search_name) - 2) AS n"
)
_PG_INSERT = "INSERT INTO entity_name_grams (gram, entity_id) {grams} ON CONFLICT DO NOTHING;"
_PG_DELETE = (
    "DELETE FROM entity_name_grams AS g USING ({grams}) AS d "
    "WHERE g.gram = d.gram AND g.entity_id = d.entity_id;"
)
_CHANGED = (
    "(SELECT {side}.id, {side}.search_name FROM old_rows AS o JOIN new_rows AS n "
    "ON n.id = o.id WHERE n.search_name IS DISTINCT FROM o.search_name)"
)
POSTGRES_GRAM_FUNCTIONS = {
    "insert": _PG_INSERT.format(grams=_PG_GRAMS.format(rows="new_rows")),
    "delete": _PG_DELETE.format(grams=_PG_GRAMS.format(rows="old_rows")),
    "update": _PG_DELETE.format(grams=_PG_GRAMS.format(rows=_CHANGED.format(side="o")))
    + _PG_INSERT.format(grams=_PG_GRAMS.format(rows=_CHANGED.format(side="n"))),
}
_PG_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
    # no column list: PostgreSQL refuses transition tables on "UPDATE OF column" triggers
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

# What this migration replaces (0012_name_search), for the downgrade: copied, not imported, so
# that this revision keeps meaning what it meant whatever later edits do to 0012's module.
_FTS_TABLE = (
    "CREATE VIRTUAL TABLE entity_names_fts USING fts5("
    "search_name, content='entities', content_rowid='id', tokenize='trigram')"
)
_FTS_TRIGGERS = [
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
_TRGM_INDEX = (
    "CREATE INDEX ix_entities_search_name_trgm ON entities USING gin (search_name gin_trgm_ops)"
)
_EVENTS = ("insert", "delete", "update")


def _upgrade_sqlite() -> None:
    for event in _EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS entity_names_fts_{event}")
    op.execute("DROP TABLE IF EXISTS entity_names_fts")
    op.execute(
        "CREATE TABLE entity_name_grams (gram VARCHAR(3) NOT NULL, entity_id INTEGER NOT NULL,"
        " PRIMARY KEY (gram, entity_id)) WITHOUT ROWID"
    )
    op.execute("CREATE TABLE name_gram_positions (n INTEGER PRIMARY KEY)")
    op.execute(
        "INSERT INTO name_gram_positions (n) WITH RECURSIVE s(n) AS "
        f"(SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {_LAST_START}) SELECT n FROM s"
    )
    op.execute(
        "INSERT OR IGNORE INTO entity_name_grams (gram, entity_id) "
        "SELECT substr(e.search_name, p.n, 3), e.id FROM entities AS e "
        "JOIN name_gram_positions AS p ON p.n <= length(e.search_name) - 2"
    )
    for statement in SQLITE_GRAM_TRIGGERS:
        op.execute(statement)


def _upgrade_postgresql() -> None:
    op.execute("DROP INDEX IF EXISTS ix_entities_search_name_trgm")
    # byte order, as the search columns (a two-character query reads a range of grams)
    op.execute(
        'CREATE TABLE entity_name_grams (gram VARCHAR(3) COLLATE "C" NOT NULL,'
        " entity_id INTEGER NOT NULL, PRIMARY KEY (gram, entity_id))"
    )
    op.execute(
        "INSERT INTO entity_name_grams (gram, entity_id) "
        + _PG_GRAMS.format(rows="entities")
        + " ON CONFLICT DO NOTHING"
    )
    for event, body in POSTGRES_GRAM_FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION entity_name_grams_{event}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER entity_name_grams_{event} AFTER {event.upper()} ON entities "
            f"{_PG_REFERENCING[event]} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION entity_name_grams_{event}()"
        )
    op.execute("ANALYZE entity_name_grams")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    on_table = " ON entities" if dialect == "postgresql" else ""
    for event in _EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS entity_name_grams_{event}{on_table}")
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS entity_name_grams_{event}()")
    op.execute("DROP TABLE IF EXISTS entity_name_grams")
    op.execute("DROP TABLE IF EXISTS name_gram_positions")
    if dialect == "sqlite":
        op.execute(_FTS_TABLE)
        for statement in _FTS_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO entity_names_fts(entity_names_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(_TRGM_INDEX)
