"""Property: no response to an analyst or to the public ever contains an unmasked resident ID
number, whatever people the feeds bring and whichever GET endpoint is asked."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import ric

from core.models import AdapterKind, CreditRecord, Entity, Feed, RecordCategory, Role
from ingest.adapters.base import Batch, RawRecord
from ingest.pipeline.store import store_batch
from tests.support.api import make_token
from tests.support.builders import make_department, make_feed

REGIONS = ["110105", "330106", "440305", "310115"]
_ID = re.compile(r"\d{17}[\dX]|\d{15}")


def resident_id(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def unmasked_ids(text: str) -> list[str]:
    return [m for m in _ID.findall(text) if len(m) == 15 or ric.is_valid(m)]


people = st.lists(
    st.tuples(
        st.sampled_from(REGIONS),
        st.dates(min_value=date(1950, 1, 1), max_value=date(2005, 12, 31)),
        st.integers(min_value=1, max_value=999),
        st.sampled_from(["张伟", "王芳", "李娜", "刘洋", "陈静"]),
        st.sampled_from(["id", "masked", "legal_rep"]),
    ),
    min_size=1,
    max_size=4,
)


def _feed(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        court = make_department(session, code="COURT")
        make_feed(
            session,
            code="court",
            department=court,
            adapter=AdapterKind.PUSH,
            record_category=RecordCategory.LIST_ENTRY,
            field_mapping={
                "fields": {"party_name": "name", "authority_name": "court"},
                "constants": {"list_name": "失信被执行人名单"},
            },
        )
        session.commit()


def get_urls(app: Flask, entity_ids: list[str], record_ids: list[int]) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or "GET" not in (rule.methods or ()):
            continue
        url = rule.rule
        if "<" not in url:
            urls += [url, f"{url}?q={entity_ids[0]}"]
            continue
        for public_id in entity_ids:
            for record_id in record_ids[:2]:
                filled = re.sub(r"<(?:string:)?public_id>", public_id, url)
                filled = re.sub(r"<int:\w+>", str(record_id), filled)
                if "<" not in filled:
                    urls.append(filled)
    return sorted(set(urls))


def test_no_unmasked_id_reaches_analysts_or_the_public(
    app: Flask, client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    _feed(session_factory)
    analyst = make_token(session_factory, Role.ANALYST)
    regulator = make_token(session_factory, Role.REGULATOR)
    counter = iter(range(1_000_000))

    @given(batch=people)
    @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(batch: list[tuple[str, date, int, str, str]]) -> None:
        records = []
        numbers = []
        for region, born, sequence, name, where in batch:
            number = resident_id(region, born, sequence)
            numbers.append(number)
            item = {
                "source_id": f"case-{next(counter)}",
                "name": name,
                "court": "北京市第一中级人民法院",
                "listed_on": "2026-01-05",
                "list_reason": f"被执行人 {name}（身份证 {number}）拒不履行",
            }
            if where == "id":
                item["id_number"] = number
            elif where == "legal_rep":
                item["legal_rep"] = f"{name} {number}"
            else:
                item["id_number"] = number[:6] + "********" + number[-4:]
            records.append(RawRecord(item, "test"))
        with session_factory() as session:
            feed = session.scalars(select(Feed)).one()
            store_batch(session=session, feed=feed, run=None, batch=Batch(records=records))
            session.commit()
            entity_ids = list(session.scalars(select(Entity.public_id)))
            record_ids = list(session.scalars(select(CreditRecord.id)))
        regulator_view = "".join(
            client.get(f"/api/v1/entities/{public_id}", headers=regulator).get_data(as_text=True)
            for public_id in entity_ids
        )
        # The numbers are really there for a role that may see them: their absence below is
        # masking, not missing data.
        assert all(
            n in regulator_view
            for n, (*_, where) in zip(numbers, batch, strict=True)
            if where == "id"
        )
        for url in get_urls(app, entity_ids, record_ids):
            for headers in (analyst, {}):
                body = client.get(url, headers=headers).get_data(as_text=True)
                leaked = unmasked_ids(body)
                assert leaked == [], f"{url} as {'analyst' if headers else 'public'}: {leaked}"

    check()
