"""One engine: the entities ingest builds from a generated data set are the clusters
``credithub resolve`` finds on the same records.

The demo generator's six feeds go through the pipeline (file drops, as ``make run`` reads
them) into the test's database; the records exactly as ingest's matcher saw them (their
stored views) are then written to a CSV and resolved by the ``credithub resolve`` command.
In catalogue order the two partitions are equal; ingesting the feeds in the opposite order
may change which of two conflicting links wins (see ``resolution/record_matching.py``), which
is bounded here at 99% pairwise agreement.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.scoring import pairwise_scores
from benchmarks.service_path import ingest_generated, record_entities, stored_match_records
from cli.resolve import resolve_command
from demo.generator import generate_feeds
from matching.records import prepare

ENTITIES = 250
MAX_CODES = 4


def resolve_with_the_cli(records: list, tmp_path: Path) -> dict[str, str]:
    """``credithub resolve`` on ``records`` written as a CSV: record id -> cluster id."""
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    code_columns = [f"code{n}" for n in range(1, MAX_CODES + 1)]
    fields = ["record_id", "kind", "name", "legal_rep", "address", "birth_date", "gender"]
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*fields, *code_columns])
        for r in records:
            assert len(r.codes) <= MAX_CODES
            codes = [*r.codes, *[""] * (MAX_CODES - len(r.codes))]
            values = [r.record_id, r.kind, r.name, r.legal_rep, r.address, r.birth_date, r.gender]
            writer.writerow([*("" if v is None else str(v) for v in values), *codes])
    result = CliRunner().invoke(
        resolve_command,
        [
            str(source),
            "--out",
            str(out),
            "--id-column",
            "record_id",
            "--kind-column",
            "kind",
            "--map",
            "code=" + "+".join(code_columns),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        return {row["record_id"]: row["entity_id"] for row in csv.DictReader(handle)}


def agreement(session_factory: sessionmaker[Session], tmp_path: Path) -> dict:
    with session_factory() as session:
        records, ingested = stored_match_records(session)
        in_force = record_entities(session)
    assert len(records) >= len(in_force) > 2 * ENTITIES  # every record went through linking
    resolved = resolve_with_the_cli(records, tmp_path)
    ids = [r.record_id for r in records]
    return pairwise_scores([resolved[i] for i in ids], [ingested[i] for i in ids])


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(entities=ENTITIES, out_dir=out, seed=11)
    return out


def test_ingest_and_resolve_give_the_same_clusters(
    session_factory: sessionmaker[Session], feeds: Path, tmp_path: Path
) -> None:
    ingest_generated(session_factory, feeds)
    scores = agreement(session_factory, tmp_path)
    assert scores["true_pairs"] > ENTITIES  # the data set has duplicates to find
    assert scores["precision"] == scores["recall"] == 1.0, scores
    # and no entity ingest built holds two different valid USCCs or resident ids
    with session_factory() as session:
        records, ingested = stored_match_records(session)
    codes: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for record in records:
        prepared = prepare(record)
        usccs, residents = codes[ingested[record.record_id]]
        usccs |= prepared.usccs
        residents |= prepared.resident_ids
    assert all(len(u) <= 1 and len(r) <= 1 for u, r in codes.values())


def test_arrival_order_moves_at_most_one_percent_of_the_pairs(
    session_factory: sessionmaker[Session], feeds: Path, tmp_path: Path
) -> None:
    ingest_generated(session_factory, feeds, reverse=True)
    scores = agreement(session_factory, tmp_path)
    assert scores["f1"] >= 0.99, scores
