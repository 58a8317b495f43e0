"""The service path of the matching benchmark: a benchmark table ingested through a
file-drop feed, the entities read back from the database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.datasets import COLUMNS, heldout_table
from benchmarks.service_path import TABLE_FEED, ingest_table, record_entities
from core.models import SourceRecord, SourceStatus


def make_row(record_id: str, entity: str, **values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(record_id=record_id, entity_key=entity, source_key=record_id, **values)
    return row


def test_a_table_is_ingested_and_its_entities_read_back(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    person = {"kind": "natural_person", "name": "赵子涵"}
    table = pd.DataFrame(
        [
            make_row("a1", "A", name="北京星河科技有限公司", uscc="91110000600037341L"),
            make_row("a2", "A", name="星河科技（北京）有限公司", code="91110000600037341L"),
            make_row("b1", "B", name="上海星河科技有限公司", uscc="91110108551385082Q"),
            # FEBRL-style impossible birth date: left out, the record still goes in
            make_row("p1", "P", id_number="110105198503020310", **person),
            make_row("p2", "P", birth_date="19851332", id_number="110105198503020310", **person),
        ]
    )
    ingest_table(session_factory, table, tmp_path / "drop")
    with session_factory() as session:
        entities = record_entities(session)
        quarantined = session.scalar(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.status == SourceStatus.QUARANTINED)
        )
    ids = {k.split(":", 1)[1]: v for k, v in entities.items() if k.startswith(TABLE_FEED)}
    assert quarantined == 0
    assert ids["a1"] == ids["a2"] != ids["b1"]
    assert ids["p1"] == ids["p2"] not in (ids["a1"], ids["b1"])


def test_the_held_out_table_has_the_benchmark_columns_and_kinds() -> None:
    table = heldout_table(60, seed=3)
    assert list(table.columns) == [*COLUMNS, "phone"]
    assert len(table) == 60 and table["record_id"].is_unique
    assert set(table["kind"]) <= {"legal_entity", "natural_person"}
    assert table["entity_key"].nunique() < 60  # it holds duplicates to find


def test_the_command_ingests_generated_feeds_and_prints_where_the_time_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.service_path import main

    figures = main(["--entities", "30", "--seed", "3", "--out", str(tmp_path), "--profile"])
    printed = capsys.readouterr().out
    assert "service path, chinese-30e-seed3" in printed
    assert "read candidates (blocks, records)" in printed and "decide (score" in printed
    assert (
        0
        < figures["decide (score, cluster rules)"]
        < figures["store_batch (everything of a batch)"]
    )
    assert figures["cpu_seconds"] > 0
