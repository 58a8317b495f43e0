"""A small world with known report answers (today is 2026-06-01).

Feeds: EPB penalties and COURT black list (unconditional), SAMR red list and licensing
(unconditional), TAX grades (conditional: regulators only), HRSS arrears black list (not
shared: nobody outside HRSS sees it).

Entities and their records:
* 星河 (company, region 110000): penalties P1 general 2026-03-01 fine 5000, P2 serious
  2026-04-15 fine 20000, P3 minor 2025-12-20 fine 100.50 (repaired); and an HRSS black-list
  entry nobody may see. Grade C (one serious penalty).
* 华信 (company, region 110108): red list 守合同重信用企业 since 2026-02-01. Grade A.
* 张三 (person, 110105): black list 失信被执行人名单 since 2026-01-10, reason naming him and
  his id number. Grade D.
* 李四 (person, 330106): black list 2025-11-03, removed 2026-05-01. Grade A.
* 厦门 (company, 350213): tax grade D, seen by regulators only (regulators: D; analysts do
  not know it exists).
* One licensing record linked to no entity, party "王五 13912345678".

Ingest: EPB ran 2026-05-31 (10 fetched, 8 accepted, 2 quarantined, both still in
quarantine), COURT ran 2026-05-01 (weekly cycle: stale on 2026-06-01).
Resolution: two automatic links 2026-03, one unsure 2026-04; a review opened 2026-03-05 and
confirmed 2026-03-20, another opened 2026-04-02 and pending; a merge 2026-03-20 and a split
2026-04-10 in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    AuditEvent,
    CreditStatus,
    DecidedBy,
    EntityReview,
    IngestRun,
    IngestRunStatus,
    MatchDecision,
    MatchLink,
    RecordCategory,
    ReviewStatus,
    Severity,
    SharingType,
    SourceStatus,
)
from tests.support.builders import make_department, make_source_record
from tests.support.credit import (
    ID_LI,
    ID_ZHANG,
    USCC_HUAXIN,
    USCC_XIAMEN,
    USCC_XINGHE,
    make_company,
    make_credit_feed,
    make_person,
    make_record,
)

TODAY = "2026-06-01"
ZHANG_REASON = f"张三（身份证 {ID_ZHANG}）有履行能力而拒不履行"


def moment(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    xinghe: str
    huaxin: str
    zhang: str
    li: str
    xiamen: str
    penalty_ids: tuple[int, int, int]
    zhang_list_id: int
    li_list_id: int
    huaxin_red_id: int
    tax_id: int
    unlinked_id: int


def build_world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session:
        world = _build(session)
        session.commit()
    return world


def _build(session: Session) -> World:
    epb = make_department(session, code="EPB", name="北京市生态环境局")
    court = make_department(session, code="COURT", name="北京市高级人民法院")
    samr = make_department(session, code="SAMR", name="北京市市场监督管理局")
    tax = make_department(session, code="TAX", name="国家税务总局北京市税务局")
    hrss = make_department(session, code="HRSS", name="北京市人力资源和社会保障局")
    penalties = make_credit_feed(
        session, code="epb-penalties", department=epb, update_cycle="daily"
    )
    court_list = make_credit_feed(
        session,
        code="court-list",
        department=court,
        record_category=RecordCategory.LIST_ENTRY,
        update_cycle="weekly",
    )
    red = make_credit_feed(
        session, code="samr-red", department=samr, record_category=RecordCategory.RED_LIST
    )
    licensing = make_credit_feed(
        session, code="samr-licensing", department=samr, record_category=RecordCategory.LICENSING
    )
    tax_grades = make_credit_feed(
        session,
        code="tax-grades",
        department=tax,
        record_category=RecordCategory.TAX_GRADE,
        sharing_type=SharingType.CONDITIONAL,
        sharing_conditions={"roles": ["regulator"]},
    )
    arrears = make_credit_feed(
        session,
        code="hrss-arrears",
        department=hrss,
        record_category=RecordCategory.LIST_ENTRY,
        sharing_type=SharingType.NOT_SHARED,
    )

    xinghe = make_company(session, name="北京星河科技有限公司", uscc=USCC_XINGHE)
    huaxin = make_company(session, name="北京华信商贸有限公司", uscc=USCC_HUAXIN)
    xiamen = make_company(session, name="厦门海通贸易有限公司", uscc=USCC_XIAMEN)
    zhang = make_person(session, name="张三", resident_id=ID_ZHANG)
    li = make_person(session, name="李四", resident_id=ID_LI)

    p1 = make_record(
        session,
        entity=xinghe,
        feed=penalties,
        decision_date=date(2026, 3, 1),
        fine_amount=Decimal("5000"),
        title="超标排放",
    )
    p2 = make_record(
        session,
        entity=xinghe,
        feed=penalties,
        severity=Severity.SERIOUS,
        decision_date=date(2026, 4, 15),
        fine_amount=Decimal("20000"),
        confiscated_amount=Decimal("300"),
    )
    p3 = make_record(
        session,
        entity=xinghe,
        feed=penalties,
        severity=Severity.MINOR,
        status=CreditStatus.REPAIRED,
        decision_date=date(2025, 12, 20),
        fine_amount=Decimal("100.50"),
    )
    make_record(
        session,
        entity=xinghe,
        feed=arrears,
        list_name="拖欠农民工工资失信联合惩戒对象名单",
        decision_date=date(2026, 2, 1),
    )
    red_entry = make_record(
        session,
        entity=huaxin,
        feed=red,
        list_name="守合同重信用企业",
        decision_date=date(2026, 2, 1),
    )
    zhang_entry = make_record(
        session,
        entity=zhang,
        feed=court_list,
        list_name="失信被执行人名单",
        decision_date=date(2026, 1, 10),
        content=ZHANG_REASON,
    )
    li_entry = make_record(
        session,
        entity=li,
        feed=court_list,
        list_name="失信被执行人名单",
        decision_date=date(2025, 11, 3),
        removed_on=date(2026, 5, 1),
        removal_reason="已履行",
    )
    tax_d = make_record(
        session, entity=xiamen, feed=tax_grades, grade="D", decision_date=date(2026, 4, 1)
    )
    unlinked = make_record(
        session,
        entity=xinghe,
        feed=licensing,
        party_name="王五 13912345678",
        decision_date=date(2026, 2, 2),
    )
    unlinked.entity_id = None

    make_run(session, penalties.id, "2026-05-31", IngestRunStatus.SUCCEEDED, 10, 8, 2)
    make_run(session, court_list.id, "2026-05-01", IngestRunStatus.SUCCEEDED, 2, 2, 0)
    make_run(session, court_list.id, "2026-05-02", IngestRunStatus.FAILED, 0, 0, 0)
    for errors in ({"uscc": ["invalid check character"]}, {"uscc": ["invalid check character"]}):
        make_source_record(
            session,
            feed=penalties,
            status=SourceStatus.QUARANTINED,
            errors=errors,
            received_at=moment("2026-05-31"),
        )

    for day, decision, by in (
        ("2026-03-02", MatchDecision.POSITIVE, DecidedBy.RULE),
        ("2026-03-03", MatchDecision.POSITIVE, DecidedBy.RULE),
        ("2026-04-04", MatchDecision.UNSURE, DecidedBy.RULE),
    ):
        session.add(
            MatchLink(
                source_record_id=p1.source_record_id,
                entity_id=xinghe.id,
                decision=decision,
                score=0.9,
                algorithm="test",
                decided_by=by,
                decided_at=moment(day),
            )
        )
    session.add(
        EntityReview(
            entity_id=xinghe.id,
            candidate_entity_id=huaxin.id,
            score=0.7,
            algorithm="test",
            status=ReviewStatus.CONFIRMED,
            created_at=moment("2026-03-05"),
            decided_at=moment("2026-03-20"),
        )
    )
    session.add(
        EntityReview(
            entity_id=xinghe.id,
            candidate_entity_id=xiamen.id,
            score=0.6,
            algorithm="test",
            created_at=moment("2026-04-02"),
        )
    )
    for day, action in (("2026-03-20", "entity.merge"), ("2026-04-10", "entity.split")):
        session.add(
            AuditEvent(actor="reg", role="regulator", action=action, occurred_at=moment(day))
        )
    session.flush()
    return World(
        xinghe=xinghe.public_id,
        huaxin=huaxin.public_id,
        zhang=zhang.public_id,
        li=li.public_id,
        xiamen=xiamen.public_id,
        penalty_ids=(p1.id, p2.id, p3.id),
        zhang_list_id=zhang_entry.id,
        li_list_id=li_entry.id,
        huaxin_red_id=red_entry.id,
        tax_id=tax_d.id,
        unlinked_id=unlinked.id,
    )


def make_run(
    session: Session,
    feed_id: int,
    day: str,
    status: IngestRunStatus,
    fetched: int,
    accepted: int,
    quarantined: int,
) -> IngestRun:
    run = IngestRun(
        feed_id=feed_id,
        started_at=moment(day),
        finished_at=moment(day),
        status=status,
        fetched=fetched,
        accepted=accepted,
        quarantined=quarantined,
    )
    session.add(run)
    session.flush()
    return run
