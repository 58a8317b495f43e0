"""A natural person's birth date and gender: mapped from the names feeds use, validated,
normalised, quarantined when implausible, and kept in the person's golden record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import today
from core.models import Entity, EntityAttribute, Feed, RecordCategory, SourceRecord, SourceStatus
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


def make_listing(**overrides: Any) -> dict[str, Any]:
    return {**LISTING, **overrides}


@pytest.mark.parametrize(
    "written", ["19690815", "1969-08-15", "1969/8/15", "1969年8月15日", "１９６９-０８-１５"]
)
def test_birth_dates_in_any_common_spelling_read_as_one_date(written: str) -> None:
    record = validate_record(RecordCategory.LIST_ENTRY, make_listing(birth_date=written))
    assert record["birth_date"] == date(1969, 8, 15)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        # Two days ahead: the parameters are made at collection, which may be before midnight.
        ((today() + timedelta(days=2)).isoformat(), "in the future"),
        ("1899-12-31", "before 1900"),
        ("1969-02-30", "Not a valid date"),
        ("unknown", "Not a valid date"),
    ],
)
def test_an_implausible_birth_date_is_a_field_error(written: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(RecordCategory.LIST_ENTRY, make_listing(birth_date=written))
    assert message in str(caught.value.messages["birth_date"])


@pytest.mark.parametrize(
    ("written", "gender"),
    [
        ("男", "M"),
        ("女", "F"),
        ("M", "M"),
        ("f", "F"),
        ("1", "M"),
        (2, "F"),
        ("female", "F"),
        ("未知", None),
        ("9", None),
    ],
)
def test_genders_are_normalised(written: object, gender: str | None) -> None:
    record = validate_record(RecordCategory.LIST_ENTRY, make_listing(gender=written))
    assert record["gender"] == gender


def test_an_unreadable_gender_is_a_field_error() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record(RecordCategory.LIST_ENTRY, make_listing(gender="X"))
    assert "gender" in caught.value.messages


@pytest.mark.parametrize(
    ("columns", "preset"),
    [
        (
            {"CF_XDR_MC": "张三", "出生日期": "1969年8月15日", "性别": "男"},
            "double_publicity_penalty",
        ),
        ({"XK_XDR_MC": "张三", "CSRQ": "19690815", "XB": "1"}, "double_publicity_licensing"),
        ({"name": "张三", "birth_date": "1969-08-15", "gender": "M"}, None),
    ],
)
def test_every_mapping_reads_the_usual_birth_date_and_gender_columns(
    columns: dict[str, str], preset: str | None
) -> None:
    mapping = resolve_mapping({"preset": preset} if preset else {})
    canonical = apply_mapping(columns, mapping)
    assert (
        date(1969, 8, 15)
        == validate_record(RecordCategory.LIST_ENTRY, make_listing(**canonical))["birth_date"]
    )
    assert canonical["gender"] in {"男", "1", "M"}


def test_a_feeds_own_columns_override_the_usual_ones() -> None:
    mapping = resolve_mapping({"fields": {"birth_date": "DOB"}})
    assert (
        apply_mapping({"DOB": "1970-01-01", "出生日期": "1969-08-15"}, mapping)["birth_date"]
        == "1970-01-01"
    )


# --------------------------------------------------------------------------- at ingest

HEADER = "case,name,id,party_type,court,listed_on,出生日期,性别"


@pytest.fixture
def list_feed(penalty_feed: Callable[..., Feed], tmp_path: Path) -> Callable[[list[str]], None]:
    """A court list feed dropping one CSV with the given rows (``HEADER``'s columns)."""
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        field_mapping={
            "source_key": "case",
            "fields": {"party_name": "name", "id_number": "id", "authority_name": "court"},
            "constants": {"list_name": "失信被执行人名单"},
        },
    )

    def _write(rows: list[str]) -> None:
        (tmp_path / "drop").mkdir(exist_ok=True)
        (tmp_path / "drop" / "l.csv").write_text("\n".join([HEADER, *rows]), encoding="utf-8")

    return _write


def golden_of(session: Session, name: str) -> dict[str, str | None]:
    entity = session.scalars(select(Entity).where(Entity.display_name == name)).one()
    return {
        a.field: a.value
        for a in session.scalars(
            select(EntityAttribute).where(
                EntityAttribute.entity_id == entity.id, EntityAttribute.is_current.is_(True)
            )
        )
    }


def test_a_persons_birth_date_and_gender_become_golden_values(
    session_factory: sessionmaker[Session], list_feed: Callable[[list[str]], None], run: Run
) -> None:
    list_feed(
        [
            "(2026)京01执1号,王小明,,自然人,北京一中院,2026-01-05,1969年8月15日,男",
            # The id's own date and sex win over what a feed writes next to it.
            "(2026)京01执2号,张三,11010519491231002X,自然人,北京一中院,2026-01-05,1950-01-01,男",
        ]
    )
    summary = run("env")
    assert (summary.counts.accepted, summary.counts.quarantined) == (2, 0)
    with session_factory() as session:
        wang = golden_of(session, "王小明")
        assert (wang["birth_date"], wang["gender"]) == ("1969-08-15", "M")
        zhang = golden_of(session, "张三")
        assert (zhang["birth_date"], zhang["gender"]) == ("1949-12-31", "F")


def test_a_record_with_an_implausible_birth_date_is_quarantined(
    session_factory: sessionmaker[Session], list_feed: Callable[[list[str]], None], run: Run
) -> None:
    list_feed(
        [
            "(2026)京01执1号,王小明,,自然人,北京一中院,2026-01-05,1880-01-01,男",
            "(2026)京01执2号,李四,,自然人,北京一中院,2026-01-05,19700101,外星",
        ]
    )
    summary = run("env")
    assert (summary.counts.accepted, summary.counts.quarantined) == (0, 2)
    with session_factory() as session:
        errors = [
            s.errors
            for s in session.scalars(
                select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
            )
        ]
    text = str(errors)
    assert "before 1900" in text and "Not a gender" in text
