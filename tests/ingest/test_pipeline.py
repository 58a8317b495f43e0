"""Ingestion end to end through ``run_feed`` on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    CreditRecord,
    Entity,
    EntityIdentifier,
    EntityKind,
    Feed,
    IdentifierType,
    IngestedFile,
    IngestRunStatus,
    MatchLink,
    RecordCategory,
    Severity,
    SourceRecord,
    SourceStatus,
)
from ingest.runner import RunSummary
from tests.ingest.conftest import penalty_row, write_penalties

Run = Callable[[str], RunSummary]


def count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_penalty_file_is_stored_validated_and_linked(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed()
    write_penalties(
        tmp_path / "drop" / "p.csv",
        [
            penalty_row(),
            penalty_row(CF_XZCFJDSWH="京环罚〔2026〕2号", CF_CFLB="吊销许可证", CF_NR_FK=""),
            penalty_row(CF_XZCFJDSWH="京环罚〔2026〕3号", CF_JDRQ="2026-13-01", CF_NR_FK="abc"),
        ],
        encoding="gbk",
    )
    summary = run("env")
    assert summary.status is IngestRunStatus.SUCCEEDED
    assert (summary.counts.fetched, summary.counts.accepted, summary.counts.quarantined) == (
        3,
        2,
        1,
    )
    assert (summary.counts.linked, summary.counts.new_entities) == (2, 1)

    with session_factory() as session:
        entity = session.scalars(select(Entity)).one()
        assert entity.kind is EntityKind.LEGAL_ENTITY
        assert entity.display_name == "北京星河科技有限公司"
        assert entity.region_code == "110000"
        records = session.scalars(select(CreditRecord).order_by(CreditRecord.id)).all()
        # 1.5 万元 in the double-publicity standard is 15,000 yuan
        assert records[0].fine_amount == Decimal("15000")
        assert records[0].severity is Severity.GENERAL
        assert records[1].severity is Severity.SERIOUS
        assert records[1].publicity_end is not None and records[1].publicity_end.year == 2029
        assert {r.entity_id for r in records} == {entity.id}
        bad = session.scalars(
            select(SourceRecord).where(SourceRecord.status == SourceStatus.QUARANTINED)
        ).one()
        assert bad.raw_payload["CF_NR_FK"] == "abc"
        assert set(bad.errors or {}) == {"decision_date", "fine_amount"}
        assert bad.origin == "p.csv:line 4"
        link = session.scalars(select(MatchLink).order_by(MatchLink.id.desc())).first()
        assert link is not None and link.explanation["rule"] == "exact_uscc"


def test_rerunning_is_a_no_op_and_a_changed_file_makes_versions(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed()
    drop = tmp_path / "drop" / "p.csv"
    write_penalties(drop, [penalty_row(), penalty_row(CF_XZCFJDSWH="二号")])
    run("env")
    again = run("env")
    assert again.counts.fetched == 0

    write_penalties(drop, [penalty_row(), penalty_row(CF_XZCFJDSWH="二号", CF_NR_FK="3")])
    changed = run("env")
    assert (changed.counts.duplicate, changed.counts.updated, changed.counts.accepted) == (1, 1, 0)

    with session_factory() as session:
        versions = session.scalars(
            select(SourceRecord)
            .where(SourceRecord.source_key == "二号")
            .order_by(SourceRecord.version)
        ).all()
        assert [(v.version, v.status) for v in versions] == [
            (1, SourceStatus.SUPERSEDED),
            (2, SourceStatus.ACCEPTED),
        ]
        assert versions[1].supersedes_id == versions[0].id
        assert versions[0].raw_payload["CF_NR_FK"] == "1.5"  # history stays readable
        credit = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number == "二号")
        ).one()
        assert credit.source_record_id == versions[1].id
        assert credit.fine_amount == Decimal("30000")
        assert count(session, CreditRecord) == 2
        assert count(session, IngestedFile) == 2


def test_a_file_in_the_wrong_encoding_is_set_aside_and_loses_nothing(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed(adapter_settings={"path": str(tmp_path / "drop"), "encoding": "utf-8"})
    write_penalties(tmp_path / "drop" / "p.csv", [penalty_row()], encoding="gbk")
    first = run("env")
    assert first.status is IngestRunStatus.SUCCEEDED and first.error is None
    [(name, reason)] = first.set_aside
    assert name == "p.csv" and "not valid utf-8" in reason
    with session_factory() as session:
        assert count(session, SourceRecord) == 0
        receipt = session.scalars(select(IngestedFile)).one()
        assert receipt.set_aside_reason == reason
        # Declaring the encoding changes the feed's catalogue entry: the file is tried again.
        feed = session.scalars(select(Feed)).one()
        feed.adapter_settings = {"path": str(tmp_path / "drop"), "encoding": "gbk"}
        session.commit()
    fixed = run("env")
    assert fixed.status is IngestRunStatus.SUCCEEDED and fixed.counts.accepted == 1


def test_old_codes_and_the_uscc_lead_to_one_entity_and_a_different_uscc_does_not(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed()
    write_penalties(
        tmp_path / "drop" / "p.csv",
        [
            penalty_row(CF_XZCFJDSWH="1"),
            # the 9-char organization code inside the USCC, written with a hyphen
            penalty_row(CF_XZCFJDSWH="2", CF_XDR_SHXYM="60003734-1", CF_XDR_MC="星河科技"),
            # the old 15-char taxpayer number: division + organization code
            penalty_row(CF_XZCFJDSWH="3", CF_XDR_SHXYM="110000600037341"),
            # same org-code part, different valid USCC: a different entity (hard rule)
            penalty_row(CF_XZCFJDSWH="4", CF_XDR_SHXYM="91110108600037341D"),
            # a USCC that fails its check is kept and flagged, never dropped
            penalty_row(CF_XZCFJDSWH="5", CF_XDR_SHXYM="91110000600037341K", CF_XDR_MC="坏码公司"),
        ],
    )
    summary = run("env")
    assert summary.counts.accepted == 5
    with session_factory() as session:
        by_doc = {r.decision_number: r.entity_id for r in session.scalars(select(CreditRecord))}
        assert by_doc["1"] == by_doc["2"] == by_doc["3"]
        assert by_doc["4"] != by_doc["1"]
        flagged = session.scalars(
            select(EntityIdentifier).where(EntityIdentifier.value == "91110000600037341K")
        ).one()
        assert flagged.valid is False and flagged.problem
        assert flagged.entity_id == by_doc["5"]


def test_natural_persons_link_by_masked_id_and_name(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed(
        record_category=RecordCategory.LIST_ENTRY,
        field_mapping={
            "source_key": "case",
            "fields": {"party_name": "name", "id_number": "id", "authority_name": "court"},
            "constants": {"list_name": "失信被执行人名单"},
        },
    )
    lines = [
        "case,name,id,party_type,court,listed_on",
        "(2026)京01执1号,张三,110105********002X,自然人,北京一中院,2026-01-05",
        "(2026)京01执2号,张三,110105********002X,自然人,北京一中院,2026-02-05",
        "(2026)京01执3号,李四,110105********002X,自然人,北京一中院,2026-02-05",
    ]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "l.csv").write_text("\n".join(lines), encoding="utf-8")
    summary = run("env")
    assert (summary.counts.accepted, summary.counts.new_entities) == (3, 2)
    with session_factory() as session:
        people = session.scalars(select(Entity).order_by(Entity.id)).all()
        assert [p.kind for p in people] == [EntityKind.NATURAL_PERSON] * 2
        assert all(p.public_id.startswith("CHP-") for p in people)
        masked = session.scalars(
            select(EntityIdentifier).where(EntityIdentifier.id_type == IdentifierType.MASKED_ID)
        ).all()
        assert {m.value for m in masked} == {"110105********002X"}


def test_public_ids_are_stable_across_reruns(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed()
    write_penalties(tmp_path / "drop" / "a.csv", [penalty_row()])
    run("env")
    with session_factory() as session:
        before = session.scalars(select(Entity.public_id)).one()
    write_penalties(tmp_path / "drop" / "b.csv", [penalty_row(CF_XZCFJDSWH="另一号")])
    run("env")
    with session_factory() as session:
        assert session.scalars(select(Entity.public_id)).all() == [before]
