"""Persons at ingest: a name with a birth date links to the person whose id carries that date,
unless the name is very common or another person fits as well; a name alone never links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, EntityReview, MatchLink
from tests.matching.test_persons import resident_id
from tests.resolution.test_record_linking import entity_of, penalty, push


def person(doc: str, name: str, id_number: str = "", **extra: str) -> dict[str, Any]:
    """A penalty of natural person ``name``; ``extra`` adds columns (出生日期, 性别)."""
    return penalty(doc, name, CF_XDR_LB="自然人", CF_XDR_ZJHM=id_number, **extra)


def link_of(session: Session, doc: str) -> MatchLink:
    record = session.scalars(select(CreditRecord).where(CreditRecord.decision_number == doc)).one()
    return session.scalars(
        select(MatchLink).where(MatchLink.source_record_id == record.source_record_id)
    ).one()


def reviews(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(EntityReview)) or 0


def test_name_and_birth_date_find_the_person_whose_id_carries_it(
    session_factory: sessionmaker[Session],
) -> None:
    push(session_factory, [person("A", "赵子涵", resident_id("19850302"))])
    push(
        session_factory,
        [
            person("B", "赵子涵", 出生日期="1985年3月2日", 性别="男"),
            person("C", "赵子涵", 出生日期="1985-03-03"),  # another day: another person
        ],
    )
    with session_factory() as session:
        assert entity_of(session, "B").id == entity_of(session, "A").id
        assert entity_of(session, "C").id != entity_of(session, "A").id
        link = link_of(session, "B")
        assert link.explanation["rule"] == "matched"
        whys = {c["field"]: c["why"] for c in link.explanation["matcher"]["comparisons"]}
        assert whys["birth_date"] == "same birth date 1985-03-02"
        assert whys["gender"] == "both male"


def test_a_name_alone_never_links_two_persons(session_factory: sessionmaker[Session]) -> None:
    push(session_factory, [person("A", "赵子涵", resident_id("19850302"))])
    push(session_factory, [person("B", "赵子涵"), person("C", "赵子涵")])
    with session_factory() as session:
        assert len({entity_of(session, doc).id for doc in "ABC"}) == 3


def test_a_common_name_with_a_birth_date_goes_to_review(
    session_factory: sessionmaker[Session],
) -> None:
    push(session_factory, [person("A", "王伟", resident_id("19850302"))])
    push(session_factory, [person("B", "王伟", 出生日期="1985-03-02")])
    with session_factory() as session:
        assert entity_of(session, "B").id != entity_of(session, "A").id
        assert reviews(session) == 1


def test_a_record_matching_two_persons_kept_apart_by_their_ids_goes_to_review(
    session_factory: sessionmaker[Session],
) -> None:
    """As ``credithub resolve`` clusters (matching.cluster.ambiguous_between): a record that
    matches two persons kept apart by different valid ids joins neither; a regulator gets
    the pair with the rule ambiguous_candidates."""
    push(
        session_factory,
        [
            person("A", "赵子涵", resident_id("19850302", "031")),
            # the same name and birth date, another valid id: never the same person
            person("B", "赵子涵", resident_id("19850302", "033")),
        ],
    )
    push(session_factory, [person("C", "赵子涵", 出生日期="1985-03-02")])
    with session_factory() as session:
        a, b, c = (entity_of(session, doc) for doc in "ABC")
        assert len({a.id, b.id, c.id}) == 3
        link = link_of(session, "C")
        assert link.explanation["rule"] == "new_entity"
        assert set(link.explanation["ambiguous"]) == {a.public_id, b.public_id}
        assert "different valid codes" in link.explanation["why"]
        (review,) = session.scalars(select(EntityReview)).all()
        assert review.entity_id == c.id and review.candidate_entity_id in {a.id, b.id}
        assert review.explanation["rule"] == "ambiguous_candidates"
        assert review.explanation["decision"] == "unsure"
        assert review.explanation["model_version"]


def test_a_record_with_the_id_of_one_of_them_is_not_ambiguous(
    session_factory: sessionmaker[Session],
) -> None:
    """The safeguard is for records without a code of their own: one carrying A's id joins A
    even though its name and birth date fit B as well."""
    push(
        session_factory,
        [
            person("A", "赵子涵", resident_id("19850302", "031")),
            person("B", "赵子涵", resident_id("19850302", "033")),
        ],
    )
    push(session_factory, [person("C", "赵子涵", resident_id("19850302", "031"))])
    with session_factory() as session:
        a, b, c = (entity_of(session, doc) for doc in "ABC")
        assert c.id == a.id != b.id
        assert reviews(session) == 0
