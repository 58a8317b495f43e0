"""The API benchmark's bulk build writes what ingest's pipeline writes: a small data set built
both ways holds the same rows in every table ingest fills and the API answers the same, on
SQLite and PostgreSQL. The one known difference (documented in ``benchmarks/api_bulk.py``):
a link's ``excluded`` list, which depends on what was stored when a record arrived."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.auth.services import create_client
from benchmarks import api_build, api_bulk
from core.config import Config
from core.db import make_engine, make_session_factory
from core.models import Role

N = 40  # four pipeline batches of 10 entities; every tenth a person
_TABLES = {
    "entities": "SELECT * FROM entities",
    "entity_identifiers": "SELECT * FROM entity_identifiers",
    "entity_attributes": "SELECT * FROM entity_attributes",
    "match_links": "SELECT * FROM match_links",
    "record_match_views": "SELECT * FROM record_match_views",
    "record_block_keys": "SELECT * FROM record_block_keys",
    "credit_records": "SELECT * FROM credit_records",
    "source_records": "SELECT * FROM source_records",
    "outbox_events": "SELECT * FROM outbox_events",
    "entity_reviews": "SELECT * FROM entity_reviews",
}
_DROPPED = {"id", "public_id", "created_at", "updated_at", "observed_at", "decided_at",
            "received_at", "occurred_at", "ingest_run_id", "record_id"}  # fmt: skip


@pytest.fixture
def second_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another fresh migrated database of the test's backend (``database_url`` is one)."""
    if backend == "sqlite":
        target = tmp_path / "second.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    try:
        yield server.url_for(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


class _Names:
    """A database's own numbers and random ids replaced by what they stand for: source
    records by their key, entities by their number in the data set (their name)."""

    def __init__(self, url: str) -> None:
        engine = make_engine(url)
        with engine.connect() as conn:
            sources = conn.execute(text("SELECT id, source_key FROM source_records")).all()
            self.sources: dict[int, str] = dict(sources)  # type: ignore[arg-type]
            rows = conn.execute(text("SELECT id, public_id, display_name FROM entities")).all()
        engine.dispose()
        self.entities = {row[0]: f"entity:{row[2]}" for row in rows}
        self.public = {row[1]: f"entity:{row[2]}" for row in rows}

    def text(self, value: str) -> str:
        value = re.sub(r"record:(\d+)", lambda m: f"record:{self.sources[int(m[1])]}", value)
        return re.sub(r"CH[LP]-[0-9A-Z]{10}", lambda m: self.public.get(m[0], m[0]), value)

    def value(self, value: Any) -> Any:
        """``value`` (a row's column or an answer) without what differs between two builds
        of the same records: ids, times, a link's ``excluded``."""
        if isinstance(value, dict):
            kept = {}
            for key, item in value.items():
                if key in _DROPPED or key.endswith("_at") or key == "excluded":
                    continue
                if key == "source_record_id" and isinstance(item, int):
                    item = self.sources[item]
                kept[key] = self.value(item)
            return kept
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _tables(url: str) -> dict[str, list[str]]:
    names = _Names(url)
    engine = make_engine(url)
    dumped: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table, query in _TABLES.items():
            rows = []
            for row in conn.execute(text(query)).mappings():
                kept: dict[str, Any] = {}
                for column, value in row.items():
                    if column in _DROPPED:
                        continue
                    if column in ("source_record_id", "supersedes_id") and value is not None:
                        value = names.sources[value]
                    elif column in ("entity_id", "merged_into_id") and value is not None:
                        value = names.entities[value]
                    elif isinstance(value, str) and value[:1] in "{[":
                        value = json.loads(value)
                    kept[column] = names.value(value)
                rows.append(json.dumps(kept, ensure_ascii=False, sort_keys=True, default=str))
            dumped[table] = sorted(rows)
    engine.dispose()
    return dumped


def _answers(url: str, tmp_path: Path) -> dict[str, Any]:
    """The regulator's and the public's answers about every entity of the data set."""
    app = create_app(Config(instance_path=tmp_path / f"i{uuid.uuid4().hex}", database_url=url,
                            secret_key="test", testing=True, log_level="WARNING",
                            rate_limit_per_minute=100_000,
                            identifier_lookups_per_minute=100_000,
                            identifier_lookups_per_hour=100_000))  # fmt: skip
    engine = app.extensions["credithub"].engine
    with make_session_factory(engine)() as session:
        _client, token = create_client(session=session, name="t", role=Role.REGULATOR)
        session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    names = _Names(url)
    answers: dict[str, Any] = {}
    for n in range(1, N + 1):
        fields = api_build.party(n)
        code = fields.get("CF_XDR_SHXYM") or fields["CF_XDR_ZJHM"]
        found = client.get(f"/api/v1/entities?q={code}", headers=auth)
        by_name = client.get(f"/api/v1/entities?q={fields['CF_XDR_MC']}", headers=auth)
        assert found.status_code == 200, found.json
        public_id = found.json["items"][0]["public_id"]
        profile = client.get(f"/api/v1/entities/{public_id}", headers=auth)
        public = client.get(f"/api/v1/public/entities/{public_id}")
        for kind, response in (("code", found), ("name", by_name), ("profile", profile),
                               ("public", public)):  # fmt: skip
            answers[f"{n}:{kind}"] = (response.status_code, names.value(response.json))
    engine.dispose()
    return answers


def _lines(answer: Any) -> list[str]:
    """An answer as indented JSON lines: a difference shows as the lines that differ."""
    return json.dumps(answer, ensure_ascii=False, sort_keys=True, indent=1).splitlines()


def test_the_bulk_build_writes_what_the_pipeline_writes(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    pipeline, bulk = database_url, second_url
    for url in (pipeline, bulk):
        api_build.create_catalogue(url)
    api_build.ingest(pipeline, N, batch=10)
    api_bulk.bulk_ingest([bulk], N, batch=7, workers=0)

    built, expected = _tables(bulk), _tables(pipeline)
    assert len(expected["entities"]) == N and len(expected["credit_records"]) == 2 * N
    assert len(expected["record_block_keys"]) > 2 * N
    for table in _TABLES:
        assert built[table] == expected[table], table
    answers, expected_answers = _answers(bulk, tmp_path), _answers(pipeline, tmp_path)
    assert answers.keys() == expected_answers.keys()
    for key, answer in expected_answers.items():
        # A person has no public page (404 both ways); everything else is found.
        assert answer[0] == (404 if key.startswith(("10:", "20:", "30:", "40:")) and
                             key.endswith("public") else 200), key
        assert _lines(answers[key]) == _lines(answer), key


def test_a_stopped_bulk_build_goes_on_where_it_stopped(
    database_url: str, second_url: str, tmp_path: Path
) -> None:
    whole, resumed = database_url, second_url
    for url in (whole, resumed):
        api_build.create_catalogue(url)
    api_bulk.bulk_ingest([whole], 20, batch=7, workers=0)
    saved = tmp_path / "dropped-indexes.json"
    api_bulk.bulk_ingest([resumed], 14, batch=7, workers=0, saved_indexes=saved)
    api_bulk.bulk_ingest([resumed], 20, first=15, batch=7, workers=0, saved_indexes=saved)

    assert not saved.exists()  # the dropped indexes are made again
    assert _tables(resumed) == _tables(whole)
    engine = make_engine(resumed)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            indexes = conn.execute(text("SELECT count(*) FROM pg_indexes")).scalar_one()
            admin = make_engine(whole)
            with admin.connect() as other:
                expected = other.execute(text("SELECT count(*) FROM pg_indexes")).scalar_one()
            assert indexes == expected
            admin.dispose()
        # The sequences go on after the data set's own ids.
        conn.execute(text("INSERT INTO source_records (feed_id, source_key, version, raw_payload,"
                          " payload_hash, received_at, status, origin) VALUES (1, 'x', 1, '{}',"
                          " 'h', '2026-01-01', 'accepted', 't')"))  # fmt: skip
        assert conn.execute(text("SELECT max(id) FROM source_records")).scalar_one() == 41
    engine.dispose()


def test_every_party_of_the_data_set_has_its_own_code() -> None:
    # The bulk path creates an entity per party: two parties sharing a code would be one
    # entity to ingest.
    persons = range(api_build.PERSON_SHARE, 1_000_001, api_build.PERSON_SHARE)
    assert len({api_build.resident_id(n) for n in persons}) == len(persons)
    companies = [n for n in range(1, 200_001) if n % api_build.PERSON_SHARE]
    assert len({api_build.uscc(n) for n in companies}) == len(companies)
