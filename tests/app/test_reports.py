"""Each report on a small world with known answers (tests/support/reports.py), through the
service the API, the CLI and the pages share; visibility and masking by role."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.entities.present import record_title
from app.reports.filters import ReportFilterError, UnknownReport, get_report, parse_filters
from app.reports.services import ReportForbidden, iter_report_rows
from app.reports.writers import iter_csv, iter_json
from core.models import ApiClient, CreditRecord, Entity, Feed, Role
from core.rules.publicity import effective_status
from core.rules.settings import GradeRules
from tests.support.builders import make_entity
from tests.support.credit import ID_LI, ID_ZHANG, USCC_HUAXIN, USCC_XINGHE, make_record
from tests.support.reports import ZHANG_REASON, World, build_world

TODAY = date(2026, 6, 1)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


def report(
    session: Session,
    name: str,
    role: Role = Role.ANALYST,
    chunk_size: int = 5000,
    text_values: bool = False,
    **params: Any,
) -> list[dict[str, Any]]:
    filters, _fmt = parse_filters(name, params)
    chunks = iter_report_rows(
        session=session,
        client=ApiClient(name=f"test-{role.value}", role=role),
        name=name,
        filters=filters,
        today=TODAY,
        grade_rules=GradeRules(),
        chunk_size=chunk_size,
        text_values=text_values,
    )
    columns = get_report(name).column_names
    return [dict(zip(columns, row, strict=True)) for chunk in chunks for row in chunk]


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_records_are_the_visible_ones_with_effective_status(world: World, session: Session) -> None:
    analyst = by(report(session, "records"), "record_id")
    p1, p2, p3 = world.penalty_ids
    assert set(analyst) == {
        p1,
        p2,
        p3,
        world.zhang_list_id,
        world.li_list_id,
        world.huaxin_red_id,
        world.unlinked_id,
    }
    # Conditional (regulators only) and not-shared feeds stay out of an analyst's file.
    assert world.tax_id not in analyst
    assert analyst[p1]["entity_id"] == world.xinghe
    assert analyst[p1]["entity_code"] == USCC_XINGHE
    assert analyst[p1]["department_code"] == "EPB"
    assert analyst[p1]["feed_code"] == "epb-penalties"
    assert analyst[p1]["fine_amount"] == Decimal("5000.00")
    assert analyst[p1]["title"] == "超标排放"
    assert analyst[p2]["severity"] == "serious"
    assert analyst[p3]["status"] == "repaired"
    unlinked = analyst[world.unlinked_id]
    assert unlinked["entity_id"] is None
    assert unlinked["entity_name"] == "王五 139****5678"

    regulator = by(report(session, "records", Role.REGULATOR), "record_id")
    assert set(regulator) == set(analyst) | {world.tax_id}
    assert regulator[world.unlinked_id]["entity_name"] == "王五 13912345678"


def test_records_mask_persons_for_analysts_not_for_regulators(
    world: World, session: Session
) -> None:
    analyst = by(report(session, "records"), "record_id")[world.zhang_list_id]
    assert analyst["entity_name"] == "张*"
    assert analyst["entity_code"] == ID_ZHANG[:6] + "********" + ID_ZHANG[-4:]
    regulator = by(report(session, "records", Role.REGULATOR), "record_id")[world.zhang_list_id]
    assert regulator["entity_name"] == "张三"
    assert regulator["entity_code"] == ID_ZHANG


def test_record_filters(world: World, session: Session) -> None:
    p1, p2, p3 = world.penalty_ids
    ids = lambda **params: {r["record_id"] for r in report(session, "records", **params)}  # noqa: E731
    assert ids(department="EPB") == {p1, p2, p3}
    assert ids(category="penalty", severity="serious") == {p2}
    assert ids(**{"from": "2026-03-01", "to": "2026-04-14"}) == {p1}
    assert ids(region="3301") == {world.li_list_id}
    assert ids(region="110000", category="penalty") == {p1, p2, p3}
    assert ids(list_type="black") == {world.zhang_list_id}
    assert ids(list_type="red") == {world.huaxin_red_id}


def test_entities_grade_lists_and_counts(world: World, session: Session) -> None:
    analyst = by(report(session, "entities"), "entity_id")
    # 厦门 is known only through the TAX feed shared with regulators: for an analyst it does
    # not exist (issue 14: sharing applies to existence).
    assert set(analyst) == {world.xinghe, world.huaxin, world.zhang, world.li}
    xinghe = analyst[world.xinghe]
    assert xinghe["grade"] == "C"
    assert xinghe["records_penalty"] == 3 and xinghe["records_total"] == 3
    assert xinghe["penalties_in_force"] == 2  # the repaired one does not count
    assert xinghe["black_lists"] == ""  # the HRSS list is not shared with anyone here
    assert analyst[world.zhang]["grade"] == "D"
    assert analyst[world.zhang]["black_lists"] == "失信被执行人名单"
    assert analyst[world.zhang]["entity_name"] == "张*"
    assert analyst[world.li]["grade"] == "A"
    assert analyst[world.li]["black_lists"] == ""
    assert analyst[world.huaxin]["red_lists"] == "守合同重信用企业"
    assert analyst[world.huaxin]["entity_code"] == USCC_HUAXIN
    # The tax grade D is a regulator's to see.
    regulator = by(report(session, "entities", Role.REGULATOR), "entity_id")
    assert regulator[world.xiamen]["grade"] == "D"
    assert regulator[world.xiamen]["records_tax_grade"] == 1
    assert regulator[world.li]["entity_code"] == ID_LI


def test_entities_filters(world: World, session: Session) -> None:
    def ids(**params: Any) -> set[str]:
        return {r["entity_id"] for r in report(session, "entities", **params)}

    assert ids(list_type="black") == {world.zhang}
    assert ids(list_type="red") == {world.huaxin}
    assert ids(region="33") == {world.li}
    assert ids(severity="serious") == {world.xinghe}
    rows = report(session, "entities", **{"from": "2026-01-01"}, category="penalty")
    assert [(r["entity_id"], r["records_total"]) for r in rows] == [(world.xinghe, 2)]


def test_penalty_statistics_by_month(world: World, session: Session) -> None:
    rows = report(session, "penalties")
    assert [
        (r["month"], r["department_code"], r["region_code"], r["penalties"], r["fine_total"])
        for r in rows
    ] == [
        ("2025-12", "EPB", "110000", 1, Decimal("100.50")),
        ("2026-03", "EPB", "110000", 1, Decimal("5000.00")),
        ("2026-04", "EPB", "110000", 1, Decimal("20000.00")),
    ]
    april = rows[2]
    assert (april["serious"], april["general"], april["minor"], april["entities"]) == (1, 0, 0, 1)
    assert april["confiscated_total"] == Decimal("300.00")
    assert [r["month"] for r in report(session, "penalties", severity="minor")] == ["2025-12"]
    assert report(session, "penalties", region="33") == []


def test_list_members_now(world: World, session: Session) -> None:
    rows = report(session, "list-members")
    assert [(r["entity_id"], r["list_kind"], r["list_name"]) for r in rows] == [
        (world.huaxin, "red", "守合同重信用企业"),
        (world.zhang, "black", "失信被执行人名单"),
    ]
    zhang = rows[1]
    assert zhang["listed_on"] == date(2026, 1, 10)
    assert zhang["department_code"] == "COURT"
    masked = ID_ZHANG[:6] + "********" + ID_ZHANG[-4:]
    assert zhang["reason"] == f"张*（身份证 {masked}）有履行能力而拒不履行"
    regulator = report(session, "list-members", Role.REGULATOR, list_type="black")
    assert [(r["entity_name"], r["reason"]) for r in regulator] == [("张三", ZHANG_REASON)]


def test_list_changes_over_time(world: World, session: Session) -> None:
    rows = report(session, "list-changes")
    assert [(r["month"], r["list_kind"], r["added"], r["removed"], r["net"]) for r in rows] == [
        ("2025-11", "black", 1, 0, 1),
        ("2026-01", "black", 1, 0, 1),
        ("2026-02", "red", 1, 0, 1),
        ("2026-05", "black", 0, 1, -1),
    ]
    assert [r["month"] for r in report(session, "list-changes", list_type="red")] == ["2026-02"]
    assert [r["month"] for r in report(session, "list-changes", **{"from": "2026-02-01"})] == [
        "2026-02",
        "2026-05",
    ]


def test_data_quality_per_feed(world: World, session: Session) -> None:
    rows = by(report(session, "data-quality"), "feed_code")
    assert set(rows) == {
        "epb-penalties",
        "court-list",
        "samr-red",
        "samr-licensing",
        "tax-grades",
        "hrss-arrears",
    }
    epb = rows["epb-penalties"]
    assert (epb["runs"], epb["fetched"], epb["accepted"], epb["rejected"]) == (1, 10, 8, 2)
    assert epb["reject_rate"] == 0.2
    assert (epb["stored_records"], epb["linked_records"], epb["link_rate"]) == (3, 3, 1.0)
    assert (epb["days_since_success"], epb["cycle_days"], epb["freshness"]) == (1, 1, "fresh")
    assert epb["quarantine_backlog"] == 2
    assert epb["reject_reasons"] == "uscc: invalid check character (2)"
    court = rows["court-list"]
    assert (court["runs"], court["failed_runs"], court["freshness"]) == (2, 1, "stale")
    assert court["days_since_success"] == 31
    assert rows["samr-licensing"]["link_rate"] == 0.0
    assert rows["samr-red"]["freshness"] == "never run"
    only_may = report(session, "data-quality", **{"from": "2026-05-02"}, department="COURT")
    assert [(r["feed_code"], r["runs"]) for r in only_may] == [("court-list", 1)]


def test_resolution_quality_by_month(world: World, session: Session) -> None:
    rows = by(report(session, "resolution"), "month")
    assert set(rows) == {"2026-03", "2026-04"}
    march, april = rows["2026-03"], rows["2026-04"]
    assert (march["auto_links"], march["reviews_opened"], march["reviews_confirmed"]) == (2, 1, 1)
    assert (march["review_backlog"], march["merges"]) == (0, 1)
    assert (april["unsure_links"], april["reviews_opened"], april["review_backlog"]) == (1, 1, 1)
    assert april["splits"] == 1
    assert set(by(report(session, "resolution", **{"from": "2026-04-01"}), "month")) == {"2026-04"}


def test_the_row_source_yields_bounded_chunks(world: World, session: Session) -> None:
    filters, _ = parse_filters("records", {})
    chunks = list(
        iter_report_rows(
            session=session,
            client=ApiClient(name="t", role=Role.ANALYST),
            name="records",
            filters=filters,
            today=TODAY,
            grade_rules=GradeRules(),
            chunk_size=2,
        )
    )
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    entity_chunks = list(
        iter_report_rows(
            session=session,
            client=ApiClient(name="t", role=Role.ANALYST),
            name="entities",
            filters=parse_filters("entities", {})[0],
            today=TODAY,
            grade_rules=GradeRules(),
            chunk_size=2,
        )
    )
    assert [len(c) for c in entity_chunks] == [2, 2]  # 厦门 is hidden from analysts


def test_filter_errors_name_the_parameter() -> None:
    with pytest.raises(UnknownReport):
        parse_filters("nope", {})
    cases = [
        ("records", {"from": "2026-13-01"}, "from"),
        ("records", {"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ("records", {"region": "1a"}, "region"),
        ("records", {"format": "docx"}, "format"),
        ("records", {"colour": "red"}, "colour"),
        ("records", {"format": "png"}, "format"),
        ("data-quality", {"severity": "serious"}, "severity"),
        ("resolution", {"region": "11"}, "region"),
    ]
    for name, params, key in cases:
        with pytest.raises(ReportFilterError) as caught:
            parse_filters(name, params)
        assert key in caught.value.errors, (name, params, caught.value.errors)
    # A blank form field is no filter at all.
    assert parse_filters("records", {"region": "", "format": "xlsx"})[1] == "xlsx"


def test_unknown_department_and_wrong_role_are_refused(world: World, session: Session) -> None:
    with pytest.raises(ReportFilterError) as caught:
        report(session, "records", department="NOPE")
    assert "department" in caught.value.errors
    with pytest.raises(ReportForbidden):
        report(session, "records", Role.DEPARTMENT)


def test_merged_entities_answer_as_their_survivor(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        xinghe = session.scalars(select(Entity).where(Entity.public_id == world.xinghe)).one()
        feed = session.scalars(select(Feed).where(Feed.code == "epb-penalties")).one()
        # A duplicate without codes of its own, merged into 星河: its records are 星河's.
        duplicate = make_entity(session, display_name="星河科技", merged_into_id=xinghe.id)
        record = make_record(session, entity=duplicate, feed=feed, decision_date=date(2026, 5, 5))
        session.commit()
        rows = by(report(session, "records"), "record_id")
        assert rows[record.id]["entity_id"] == world.xinghe
        assert rows[record.id]["entity_name"] == "北京星河科技有限公司"
        assert rows[record.id]["entity_code"] == USCC_XINGHE
        entities = by(report(session, "entities"), "entity_id")
        assert duplicate.public_id not in entities
        assert entities[world.xinghe]["records_penalty"] == 4


def test_active_records_past_publicity_are_expired(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    p1 = world.penalty_ids[0]
    with session_factory() as session:
        record = session.get(CreditRecord, p1)
        assert record is not None
        record.publicity_end = date(2026, 5, 31)
        session.commit()
        assert by(report(session, "records"), "record_id")[p1]["status"] == "expired"


@pytest.mark.parametrize("text_values", [False, True])
def test_records_report_status_and_title_are_the_profiles(
    world: World, session_factory: sessionmaker[Session], text_values: bool
) -> None:
    """The records report's bulk loop works on raw row values (ISO text for CSV and JSON),
    not on records: its status and title must still be ``effective_status``'s and
    ``record_title``'s."""
    p1, p2, _p3 = world.penalty_ids
    with session_factory() as session:
        lapsed, untitled = session.get(CreditRecord, p1), session.get(CreditRecord, p2)
        last_day = session.get(CreditRecord, world.huaxin_red_id)
        assert lapsed is not None and untitled is not None and last_day is not None
        lapsed.publicity_end = date(2026, 5, 31)
        last_day.publicity_end = TODAY  # still published today
        untitled.title = None  # falls back to the decision number
        session.commit()
        rows = report(session, "records", Role.REGULATOR, text_values=text_values)
        shown = {row["record_id"]: (row["status"], row["title"]) for row in rows}
        records = session.scalars(select(CreditRecord).where(CreditRecord.id.in_(shown))).all()
        expected = {r.id: (effective_status(r, TODAY).value, record_title(r)) for r in records}
    assert shown[p1][0] == "expired" and shown[world.huaxin_red_id][0] == "active"
    assert shown[p2][1] == untitled.decision_number
    assert {r.list_name for r in records if r.title is None} - {None}  # list entries too
    assert shown == expected


def test_list_type_keeps_every_record_of_listed_entities(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        zhang = session.scalars(select(Entity).where(Entity.public_id == world.zhang)).one()
        feed = session.scalars(select(Feed).where(Feed.code == "epb-penalties")).one()
        fine = make_record(session, entity=zhang, feed=feed)
        session.commit()
        rows = report(session, "records", list_type="black")
        assert {r["record_id"] for r in rows} == {world.zhang_list_id, fine.id}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REGULATOR])
@pytest.mark.parametrize(
    "params",
    [{}, {"from": "2026-01-01", "to": "2026-04-30", "region": "11"}, {"list_type": "black"}],
)
def test_text_rows_write_the_same_csv_and_json_as_typed_rows(
    world: World, session: Session, role: Role, params: dict[str, str]
) -> None:
    """CSV and JSON read the records report without the driver's type conversions (faster);
    the files must be byte for byte those of the typed rows."""
    spec = get_report("records")
    filters, _ = parse_filters("records", params)
    files = []
    for text_values in (False, True):
        for writer in ("csv", "json"):
            chunks = iter_report_rows(
                session=session,
                client=ApiClient(name="t", role=role),
                name="records",
                filters=filters,
                today=TODAY,
                grade_rules=GradeRules(),
                chunk_size=3,
                text_values=text_values,
            )
            pieces = (
                iter_csv(spec.columns, chunks)
                if writer == "csv"
                else iter_json(spec.columns, chunks, head={})
            )
            files.append(b"".join(pieces))
    typed_csv, typed_json, text_csv, text_json = files
    assert typed_csv.count(b"\n") > 1
    assert text_csv == typed_csv
    assert text_json == typed_json
