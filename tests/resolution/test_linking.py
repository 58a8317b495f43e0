"""Linking by exact identifiers within one batch: what one record adds to an entity (an
identifier, a new name) finds it for the records after it; the hard rule's conflict check."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import (
    AdapterKind,
    CreditRecord,
    EntityKind,
    IdentifierType,
    MatchLink,
    RecordCategory,
    SourceRecord,
)
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.store import store_batch
from matching.exact import PartyKeys, conflicts
from resolution.entity_views import EntityView, IdentView, strong_codes_of
from tests.support.builders import make_department, make_feed

USCC = "91110000600037341L"
REGISTRATION = "110108000000016"


def push(
    session_factory: sessionmaker[Session], category: RecordCategory, items: list[dict[str, Any]]
) -> None:
    with session_factory() as session:
        feed = make_feed(
            session,
            code="feed",
            department=make_department(session, code="D"),
            adapter=AdapterKind.PUSH,
            record_category=category,
            field_mapping={},
        )
        records = [RawRecord(item, "test") for item in items]
        store_batch(session=session, feed=feed, run=None, batch=Batch(records=records))
        session.commit()


def links_by_source_key(session: Session) -> dict[str, tuple[int, str]]:
    rows = session.execute(
        select(SourceRecord.source_key, CreditRecord.entity_id, MatchLink.explanation)
        .join(CreditRecord, CreditRecord.source_record_id == SourceRecord.id)
        .join(MatchLink, MatchLink.source_record_id == SourceRecord.id)
    )
    return {key: (entity_id, explanation["rule"]) for key, entity_id, explanation in rows}


def test_an_identifier_added_by_one_record_finds_the_entity_for_the_next(
    session_factory: sessionmaker[Session],
) -> None:
    penalty = {"decision_date": "2026-03-01", "authority_name": "局"}
    push(
        session_factory,
        RecordCategory.PENALTY,
        [
            {**penalty, "source_id": "1", "decision_number": "1", "party_name": "甲公司",
             "uscc": USCC},
            # links by the USCC and adds a registration number to the entity
            {**penalty, "source_id": "2", "decision_number": "2", "party_name": "甲公司",
             "uscc": USCC, "registration_number": REGISTRATION},
            # only the registration number, another spelling of the name
            {**penalty, "source_id": "3", "decision_number": "3", "party_name": "甲有限公司",
             "registration_number": REGISTRATION},
        ],
    )  # fmt: skip
    with session_factory() as session:
        links = links_by_source_key(session)
    assert links["1"][0] == links["2"][0] == links["3"][0]
    assert [links[k][1] for k in "123"] == ["new_entity", "exact_uscc", "exact_registration_number"]


def test_a_registry_renaming_an_entity_makes_both_names_find_it(
    session_factory: sessionmaker[Session],
) -> None:
    push(
        session_factory,
        RecordCategory.REGISTRY,
        [
            {"source_id": "1", "party_name": "甲公司", "uscc": USCC},
            # the registry's name wins: the entity is renamed
            {"source_id": "2", "party_name": "甲科技有限公司", "uscc": USCC},
            # no codes: found by the exact name, the new one and the old one
            {"source_id": "3", "party_name": "甲科技有限公司"},
            {"source_id": "4", "party_name": "甲公司"},
        ],
    )
    with session_factory() as session:
        links = links_by_source_key(session)
    assert len({links[k][0] for k in "1234"}) == 1
    assert [links[k][1] for k in "34"] == ["exact_name", "exact_name"]


def _strong_codes(entity: EntityView) -> dict[str, set[str]]:
    """The entity's valid USCCs and resident ids, read here independently of the linker."""
    codes: dict[str, set[str]] = defaultdict(set)
    for ident in entity.identifiers:
        if ident.valid and ident.id_type in (IdentifierType.USCC, IdentifierType.RESIDENT_ID):
            codes[ident.id_type.value].add(ident.value)
    return codes


_VALUES = st.sampled_from(["A1", "B2", "C3", "D4"])
_identifiers = st.lists(
    st.builds(
        IdentView,
        id_type=st.sampled_from(
            [IdentifierType.USCC, IdentifierType.RESIDENT_ID, IdentifierType.ORG_CODE]
        ),
        value=_VALUES,
        valid=st.booleans(),
    ),
    max_size=6,
)
_strong = st.dictionaries(st.sampled_from(["uscc", "resident_id"]), _VALUES)


@given(_identifiers, _strong)
def test_the_linker_reads_an_entitys_strong_codes_for_the_hard_rule(
    identifiers: list[IdentView], strong: dict[str, str]
) -> None:
    entity = EntityView(
        kind=EntityKind.LEGAL_ENTITY, public_id="CHL-X", display_name="x", identifiers=identifiers
    )
    keys = PartyKeys(kind="legal_entity", name="x", keys=[], identifiers=[], strong=strong)
    assert entity.strong_codes() == strong_codes_of(identifiers) == _strong_codes(entity)
    assert conflicts(keys, entity.strong_codes()) == conflicts(keys, _strong_codes(entity))


def test_an_entity_views_strong_codes_follow_the_identifiers_it_gains() -> None:
    entity = EntityView(
        kind=EntityKind.LEGAL_ENTITY,
        public_id="CHL-X",
        display_name="x",
        identifiers=[IdentView(IdentifierType.USCC, USCC, True)],
    )
    assert entity.strong_codes() == {"uscc": {USCC}}
    entity.identifiers.append(IdentView(IdentifierType.USCC, "91110108551385082Q", True))
    assert entity.strong_codes() == {"uscc": {USCC, "91110108551385082Q"}}
