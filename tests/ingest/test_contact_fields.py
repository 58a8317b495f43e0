"""A party's phone and postcode: canonical fields read from the column names feeds use,
validated, and given to the matcher at ingest as ``credithub resolve`` gives them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, Feed, RecordCategory, RecordMatchView
from ingest.mapping import apply_mapping, resolve_mapping
from ingest.records import validate_record
from ingest.runner import RunSummary

Run = Callable[[str], RunSummary]

LISTING = {
    "party_name": "张三",
    "party_type": "自然人",
    "list_name": "失信被执行人名单",
    "listed_on": "2026-01-05",
}


@pytest.mark.parametrize(
    ("columns", "preset"),
    [
        (
            {"CF_XDR_MC": "张三", "联系电话": "139 1234 5678", "邮政编码": "100005"},
            "double_publicity_penalty",
        ),
        (
            {"XK_XDR_MC": "张三", "LXDH": "13912345678", "YZBM": "100005"},
            "double_publicity_licensing",
        ),
        ({"name": "张三", "phone": "13912345678", "postcode": "100005"}, None),
    ],
)
def test_every_mapping_reads_the_usual_phone_and_postcode_columns(
    columns: dict[str, str], preset: str | None
) -> None:
    canonical = apply_mapping(columns, resolve_mapping({"preset": preset} if preset else {}))
    record = validate_record(RecordCategory.LIST_ENTRY, {**LISTING, **canonical})
    assert record["phone"].replace(" ", "") == "13912345678"
    assert record["postcode"] == "100005"


def test_an_overlong_phone_is_a_field_error_not_a_lost_record() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(RecordCategory.LIST_ENTRY, {**LISTING, "phone": "1" * 65})
    assert "phone" in caught.value.messages


HEADER = "case,name,party_type,court,listed_on,联系电话,邮编"


@pytest.fixture
def list_feed(penalty_feed: Callable[..., Feed], tmp_path: Path) -> Callable[[list[str]], None]:
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        field_mapping={
            "source_key": "case",
            "fields": {"party_name": "name", "authority_name": "court"},
            "constants": {"list_name": "失信被执行人名单"},
        },
    )

    def _write(rows: list[str]) -> None:
        (tmp_path / "drop").mkdir(exist_ok=True)
        (tmp_path / "drop" / "l.csv").write_text("\n".join([HEADER, *rows]), encoding="utf-8")

    return _write


def test_a_shared_phone_links_two_records_a_name_alone_would_not(
    session_factory: sessionmaker[Session], list_feed: Callable[[list[str]], None], run: Run
) -> None:
    """Name + phone links (6 + 8 bits over the prior of -8); the same name with no phone
    stays apart (a name alone never links a person)."""
    list_feed(
        [
            "(2026)京01执1号,欧阳明远,自然人,北京一中院,2026-01-05,13912345678,100005",
            "(2026)京01执2号,欧阳明远,自然人,北京一中院,2026-01-05,139-1234-5678,",
            "(2026)京01执3号,欧阳明远,自然人,北京一中院,2026-01-05,,",
        ]
    )
    summary = run("env")
    assert summary.counts.accepted == 3
    with session_factory() as session:
        views = [v.view for v in session.scalars(select(RecordMatchView))]
        entity_ids = [
            e for (e,) in session.execute(select(CreditRecord.entity_id).order_by(CreditRecord.id))
        ]
    assert sorted(v["phone"] or "" for v in views) == ["", "139-1234-5678", "13912345678"]
    assert "100005" in {v["postcode"] for v in views}
    first, second, third = entity_ids
    assert first == second
    assert third != first
