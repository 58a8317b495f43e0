"""A profile costs the same few queries whatever the entity holds, and still tells the whole
story: totals by category and department over every record, the newest items only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.entities.present import Viewer
from app.entities.profile_rows import (
    PROFILE_ITEMS_PER_CATEGORY,
    PROFILE_MATCH_LINKS,
    PROFILE_TIMELINE_ITEMS,
)
from app.entities.services import entity_profile
from core.models import (
    CreditRecord,
    CreditStatus,
    DecidedBy,
    Entity,
    EntityAttribute,
    IdentifierType,
    MatchDecision,
    MatchLink,
    RecordCategory,
    Role,
)
from core.rules.grading import grade_entity
from core.rules.settings import GradeRules
from resolution.survivors import entity_group
from tests.support.builders import make_department, make_entity
from tests.support.credit import add_identifier, make_company, make_credit_feed, make_record

TODAY = date(2026, 6, 1)
MAX_PROFILE_QUERIES = 5


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """The SQL statements ``session`` sends while the block runs."""
    statements: list[str] = []
    engine = session.get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _profile(
    session: Session, entity: Entity, feed_ids: frozenset[int]
) -> tuple[dict[str, Any], list[str]]:
    """The profile a regulator sees (a company's: no audit write) and the statements it cost."""
    viewer = Viewer(client=None, role=Role.REGULATOR, feed_ids=feed_ids, today=TODAY)
    public_id = entity.public_id
    session.expire_all()  # nothing comes from the identity map
    with counted(session) as statements:
        profile = entity_profile(
            session=session, viewer=viewer, public_id=public_id, grade_rules=GradeRules()
        )
    return profile, statements


def _build(session: Session, tag: str, uscc: str, n_records: int) -> tuple[Entity, frozenset[int]]:
    """A company (and one entity merged into it) with ``n_records`` records from six feeds of
    three departments, a match link and an identifier per record; its feeds' ids."""
    departments = [
        make_department(session, code=f"{tag}{i}", name=f"{tag}部门{i}") for i in range(3)
    ]
    feeds = [
        make_credit_feed(
            session, code=f"{tag}{i}-{category.value}", department=dept, record_category=category
        )
        for i, dept in enumerate(departments)
        for category in (RecordCategory.PENALTY, RecordCategory.LICENSING)
    ]
    company = make_company(session, name=f"{tag}测试科技有限公司", uscc=uscc)
    merged = make_entity(session, display_name=company.display_name, merged_into_id=company.id)
    for n in range(n_records):
        feed = feeds[n % len(feeds)]
        record = make_record(
            session,
            entity=merged if n % 7 == 0 else company,
            feed=feed,
            decision_date=date(2020, 1, 1) + timedelta(days=n),
            status=CreditStatus.ACTIVE if n % 2 else CreditStatus.EXPIRED,
        )
        session.add(
            MatchLink(
                source_record_id=record.source_record_id,
                entity_id=record.entity_id,
                decision=MatchDecision.POSITIVE,
                score=1.0,
                explanation={"rule": "exact_identifier"},
                algorithm="test",
                decided_by=DecidedBy.RULE,
            )
        )
        session.add(
            EntityAttribute(
                entity_id=company.id,
                field="address",
                value=f"地址{n}",
                feed_id=feed.id,
                is_current=n == n_records - 1,
            )
        )
        add_identifier(session, company, IdentifierType.OTHER, f"{tag}{n:06d}")
    session.flush()
    return company, frozenset(f.id for f in feeds)


def test_small_and_large_entities_cost_the_same_few_queries(session: Session) -> None:
    small, small_feeds = _build(session, "S", "91110000600037341L", 1)
    small_profile, small_statements = _profile(session, small, small_feeds)
    large, large_feeds = _build(session, "L", "91110108551385082Q", 400)
    large_profile, large_statements = _profile(session, large, large_feeds)
    assert len(small_statements) <= MAX_PROFILE_QUERIES, small_statements
    assert len(large_statements) == len(small_statements), large_statements
    assert [b["total"] for b in small_profile["records"].values()] == [1]
    # totals count every record (the merged entity's too); only the newest are shown
    records = large_profile["records"]
    assert sorted(bucket["total"] for bucket in records.values()) == [200, 200]
    for bucket in records.values():
        assert len(bucket["items"]) == PROFILE_ITEMS_PER_CATEGORY
        dates = [item["decision_date"] for item in bucket["items"]]
        assert dates == sorted(dates, reverse=True)
    timeline = large_profile["timeline"]
    assert len(timeline) == PROFILE_TIMELINE_ITEMS
    assert timeline[0]["date"] == date(2020, 1, 1) + timedelta(days=399)
    assert sorted(d["records"] for d in large_profile["departments"]) == [132, 134, 134]
    assert large_profile["match_links_total"] == 400
    assert len(large_profile["match_links"]) == PROFILE_MATCH_LINKS
    assert len(large_profile["identifiers"]) >= 400
    assert large_profile["golden_record"][0]["value"] == "地址399"  # the current value
    # the grade still sees every record in force, not only the shown ones
    every = session.scalars(
        select(CreditRecord).where(CreditRecord.entity_id.in_(entity_group(session, large)))
    ).all()
    assert len(every) == 400
    expected = grade_entity(records=every, today=TODAY, rules=GradeRules()).as_dict()
    assert large_profile["grade"] == expected
