"""Payload hashes never change: a record delivered again, by any later version of CreditHub,
must still be recognised as a duplicate. The hashes below were computed by the pipeline before
text rows got their own hashing path; the end-to-end test checks the one a real run stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Feed, SourceRecord
from ingest.pipeline.payloads import PayloadHasher, json_safe, payload_hash
from ingest.runner import RunSummary
from tests.ingest.conftest import penalty_row, write_penalties

CSV_ROW = {
    "CF_XDR_MC": "北京星河科技有限公司",
    "CF_XDR_LB": "法人及非法人组织",
    "CF_XDR_SHXYM": "91110000600037341L",
    "CF_XZCFJDSWH": "京环罚〔2026〕1号",
    "CF_CFLB": "罚款",
    "CF_NR_FK": "1.5",
    "CF_JDRQ": "2026-03-01",
    "CF_CFJG": "北京市生态环境局",
}
PINNED: list[tuple[dict[str, Any], str]] = [
    (CSV_ROW, "c5e44e0464750e9bbb9afab4912d8656e80eb36a4165fe6290e3132a281ca7aa"),
    (
        {
            "z": 'say "hi"\\ now',
            "%s key": "tab\there\nnew line\x00\x1f",
            "a": "",
            "Ä": "\u2028😀",
            "%": "%d",
        },
        "e26e1d2aff8aae6f3489c941fcc7e24ee20dcaec5a2ff1c86508dcf558b1be5e",
    ),
    (
        {
            "amount": Decimal("1.50"),
            "on": date(2026, 3, 1),
            "at": datetime(2026, 3, 1, 8, 0),
            "n": None,
            "f": 1.5,
            "i": 3,
            "nested": {"x": [1, "y", None]},
        },
        "470d4ff0a9c624262ed6e96a31e1544d33167776dd4b6e6506fbdced4c2f18d1",
    ),
    ({}, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
    ({"k": "v"}, "666c1aa02e8068c6d5cc1d3295009432c16790bec28ec8ce119d0d1a18d61319"),
]


@pytest.mark.parametrize(("payload", "expected"), PINNED)
def test_payload_hashes_are_pinned(payload: dict[str, Any], expected: str) -> None:
    assert payload_hash(json_safe(payload)) == expected
    safe, digest = PayloadHasher()(payload)
    assert digest == expected
    assert safe == json_safe(payload)


def test_one_hasher_serves_rows_of_different_columns_and_column_orders() -> None:
    hasher = PayloadHasher()
    reordered = dict(reversed(list(CSV_ROW.items())))
    fewer = {k: v for k, v in CSV_ROW.items() if k != "CF_NR_FK"}
    changed = {**CSV_ROW, "CF_NR_FK": "2.0"}
    for row in (CSV_ROW, reordered, fewer, changed, CSV_ROW):
        assert hasher(row)[1] == payload_hash(json_safe(row))
    assert hasher(reordered)[1] == hasher(CSV_ROW)[1] == PINNED[0][1]
    assert len({hasher(CSV_ROW)[1], hasher(fewer)[1], hasher(changed)[1]}) == 3


_SHARED = PayloadHasher()  # one across examples: its templates see many column sets


@given(st.dictionaries(st.text(max_size=6), st.text(max_size=12), max_size=8))
def test_text_rows_hash_exactly_as_json_dumps_does(row: dict[str, str]) -> None:
    safe, digest = _SHARED(row)
    assert safe == row and safe is not row
    assert digest == payload_hash(json_safe(row))


def test_a_stored_record_keeps_its_pinned_hash_and_a_redelivery_is_a_duplicate(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Callable[[str], RunSummary],
    tmp_path: Path,
) -> None:
    assert penalty_row() == ",".join(CSV_ROW.values())
    penalty_feed()
    write_penalties(tmp_path / "drop" / "a.csv", [penalty_row()])
    run("env")
    write_penalties(tmp_path / "drop" / "b.csv", [penalty_row()])
    again = run("env")
    assert again.counts.duplicate == 1 and again.counts.accepted == 0
    with session_factory() as session:
        assert session.scalars(select(SourceRecord.payload_hash)).all() == [PINNED[0][1]]
