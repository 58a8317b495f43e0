"""Alembic, driven from code: the CLI, ``make run`` and the tests all migrate through here."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# Search indexes the models cannot describe: SQLite's FTS5 table with its shadow tables and
# PostgreSQL's trigram GIN index (migration 0012_name_search, dropped by 0016_name_grams), the
# trigram postings kept by triggers (0016_name_grams), expression indexes of identifiers
# (autogenerate does not compare those). Comparing the schema with the models skips them.
SEARCH_INDEX_TABLE_PREFIXES = ("entity_names_fts", "entity_name_grams", "name_gram_positions")
SEARCH_INDEX_NAMES = frozenset(
    {
        "ix_entities_search_name_trgm",
        "ix_entity_identifiers_org_part",
        "ix_entity_identifiers_tail",
    }
)


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's ``include_name`` hook: everything but the search indexes above."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_INDEX_TABLE_PREFIXES):
        return False
    return not (type_ == "index" and name in SEARCH_INDEX_NAMES)


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
