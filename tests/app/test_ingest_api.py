"""Departments pushing records; quarantine, run history and catalogue over the API."""

from __future__ import annotations

import http.client
import io
import json
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import make_server
from core.models import AdapterKind, AuditEvent, CreditRecord, RecordCategory, Role, SourceRecord
from tests.support.api import make_token
from tests.support.builders import make_department, make_feed
from tests.support.push import penalty_item as penalty
from tests.support.push import push

Headers = dict[str, str]


@pytest.fixture
def setup(session_factory: sessionmaker[Session]) -> dict[str, Headers]:
    with session_factory() as session:
        epb = make_department(session, code="EPB")
        tax = make_department(session, code="TAX")
        make_feed(
            session,
            code="epb-push",
            department=epb,
            adapter=AdapterKind.PUSH,
            record_category=RecordCategory.PENALTY,
            field_mapping={"preset": "double_publicity_penalty", "fine_unit": "yuan"},
        )
        make_feed(session, code="tax-push", department=tax, adapter=AdapterKind.PUSH)
        make_feed(session, code="epb-files", department=epb, adapter=AdapterKind.FILE_DROP)
        session.commit()
    return {
        "epb": make_token(session_factory, Role.DEPARTMENT, department_code="EPB"),
        "tax": make_token(session_factory, Role.DEPARTMENT, department_code="TAX"),
        "regulator": make_token(session_factory, Role.REGULATOR),
        "analyst": make_token(session_factory, Role.ANALYST),
    }


def test_push_reports_each_item_and_is_idempotent(
    client: FlaskClient, setup: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    first = push(client, setup["epb"], [penalty("1"), penalty("2"), penalty("3", CF_JDRQ="昨天")])
    assert first.status_code == 200, first.json
    items = first.json["items"]
    assert [i["status"] for i in items] == ["accepted", "accepted", "rejected"]
    assert items[2]["errors"] == {"decision_date": ["Not a valid date: '昨天'."]}
    assert (
        items[0]["entity_id"].startswith("CHL-") and items[0]["entity_id"] == items[1]["entity_id"]
    )
    counts = first.json["counts"]
    assert counts["fetched"] == 3
    assert counts["fetched"] == (
        counts["accepted"] + counts["duplicate"] + counts["updated"] + counts["quarantined"]
    )

    again = push(client, setup["epb"], [penalty("1"), penalty("2", CF_NR_FK="6000")])
    assert [i["status"] for i in again.json["items"]] == ["duplicate", "updated"]

    with session_factory() as session:
        fines = {c.decision_number: c.fine_amount for c in session.scalars(select(CreditRecord))}
        assert fines["京环罚〔2026〕2号"] == 6000
        assert session.scalar(select(AuditEvent.action)) == "records.push"


def test_items_without_source_id_or_not_objects_are_rejected_and_kept(
    client: FlaskClient, setup: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    response = push(client, setup["epb"], [penalty("1"), {"CF_XDR_MC": "无编号"}, 42])
    statuses = [(i["status"], i["errors"]) for i in response.json["items"]]
    assert statuses[0][0] == "accepted"
    assert statuses[1] == ("rejected", {"_record": ["source_id is required"]})
    assert statuses[2] == ("rejected", {"_record": ["not an object"]})
    with session_factory() as session:
        assert len(session.scalars(select(SourceRecord)).all()) == 3


@pytest.mark.parametrize(
    ("who", "feed", "status"),
    [
        ("tax", "epb-push", 403),  # another department's feed
        ("epb", "epb-files", 409),  # a pulled feed
        ("epb", "nope", 404),
        ("regulator", "epb-push", 403),  # only departments push
        ("analyst", "epb-push", 403),
    ],
)
def test_push_refusals(
    client: FlaskClient, setup: dict[str, Headers], who: str, feed: str, status: int
) -> None:
    response = push(client, setup[who], [penalty("1")], feed=feed)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status


def test_push_needs_a_valid_token(client: FlaskClient, setup: dict[str, Headers]) -> None:
    assert push(client, {}, [penalty("1")]).status_code == 401
    bad = push(client, {"Authorization": "Bearer chk_nonsense"}, [penalty("1")])
    assert bad.status_code == 401 and "unknown or revoked" in bad.json["detail"]
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert push(client, {"Authorization": "Basic abc"}, [penalty("1")]).status_code == 401


def test_malformed_and_oversized_bodies_get_clear_4xx(
    client: FlaskClient, setup: dict[str, Headers]
) -> None:
    headers = {**setup["epb"], "Content-Type": "application/json"}
    broken = client.post(
        "/api/v1/records", data='{"feed": "epb-push", "records": [', headers=headers
    )
    assert broken.status_code in (400, 422)
    missing = client.post("/api/v1/records", json={"records": []}, headers=setup["epb"])
    assert missing.status_code == 422 and "feed" in json.dumps(missing.json["errors"])
    too_many = push(client, setup["epb"], [penalty(str(i)) for i in range(1001)])
    assert too_many.status_code == 422 and "at most 1000" in too_many.json["detail"]
    empty = push(client, setup["epb"], [])
    assert empty.status_code == 422
    huge = client.post("/api/v1/records", data="x" * (17 * 1024 * 1024), headers=headers)
    assert huge.status_code == 413 and huge.json["status"] == 413


def test_quarantine_is_scoped_to_the_department(
    client: FlaskClient, setup: dict[str, Headers]
) -> None:
    push(client, setup["epb"], [penalty("9", CF_JDRQ="bad")])
    own = client.get("/api/v1/quarantine", headers=setup["epb"])
    assert own.status_code == 200 and own.json["total"] == 1
    item = own.json["items"][0]
    assert item["raw_payload"]["CF_JDRQ"] == "bad" and "decision_date" in item["errors"]
    assert client.get("/api/v1/quarantine", headers=setup["tax"]).json["total"] == 0
    assert client.get("/api/v1/quarantine", headers=setup["regulator"]).json["total"] == 1
    assert client.get("/api/v1/quarantine", headers=setup["analyst"]).status_code == 403
    too_big = client.get("/api/v1/quarantine?page_size=100000", headers=setup["regulator"])
    assert too_big.status_code == 422


def test_runs_and_catalogue(client: FlaskClient, setup: dict[str, Headers]) -> None:
    push(client, setup["epb"], [penalty("1")])
    runs = client.get("/api/v1/ingest/runs", headers=setup["regulator"])
    assert runs.status_code == 200
    run = runs.json["items"][0]
    assert (run["feed"], run["trigger"], run["accepted"], run["status"]) == (
        "epb-push",
        "push",
        1,
        "succeeded",
    )
    assert client.get("/api/v1/ingest/runs", headers=setup["tax"]).json["total"] == 0
    catalogue = client.get("/api/v1/catalogue", headers=setup["analyst"])
    codes = {f["code"]: f for f in catalogue.json["items"]}
    assert set(codes) == {"epb-push", "tax-push", "epb-files"}
    assert codes["epb-push"]["sharing_type"] == "unconditional"
    assert "adapter_settings" not in codes["epb-files"]
    assert client.get("/api/v1/catalogue").status_code == 401


def test_openapi_document_lists_the_endpoints(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/records", "/api/v1/quarantine", "/api/v1/catalogue"} <= set(spec["paths"])


def body_with(value: str) -> bytes:
    """A push body whose first record's CF_XDR_MC is ``value``, written as JSON text."""
    return b'{"feed": "epb-push", "records": [{"source_id": "1", "CF_XDR_MC": %s}]}' % (
        value.encode()
    )


UNSTORABLE_BODIES = {
    "lone surrogate": (
        body_with('"a\\ud800b"'),
        "lone surrogate (\\ud800) at records[0].CF_XDR_MC",
    ),
    "lone surrogate in a key": (
        b'{"feed": "epb-push", "records": [{"source_id": "1", "\\udc00": "x"}]}',
        "lone surrogate (\\udc00) at records[0].\\udc00",
    ),
    "lone surrogate as feed": (b'{"feed": "\\ud800", "records": []}', "at feed"),
    "number beyond a double": (body_with("1e999"), "the number 1e999, beyond the range"),
    "NaN": (body_with("NaN"), "NaN, which is not a JSON number"),
    "integer too long": (body_with("9" * 5000), "an integer of 5000 digits"),
    "nested past the recursion limit": (
        body_with("[" * 100_000 + "]" * 100_000),
        "nested deeper than 64 levels",
    ),
    "nested deeper than 64 levels": (body_with("[" * 70 + "]" * 70), "nested deeper than 64"),
}


@pytest.mark.parametrize(
    ("body", "message"), UNSTORABLE_BODIES.values(), ids=UNSTORABLE_BODIES.keys()
)
def test_json_that_cannot_be_stored_is_refused_with_400_naming_the_problem(
    client: FlaskClient,
    setup: dict[str, Headers],
    session_factory: sessionmaker[Session],
    body: bytes,
    message: str,
) -> None:
    """Python's parser reads these, but no database stores them (or the payload walk after it
    runs out of stack): refused up front, not a 500 once the records are stored."""
    headers = {**setup["epb"], "Content-Type": "application/json"}
    response = client.post("/api/v1/records", data=body, headers=headers)
    assert response.status_code == 400, response.json
    assert response.mimetype == "application/problem+json"
    assert message in response.json["detail"]
    with session_factory() as session:
        assert session.scalars(select(SourceRecord)).all() == []


def test_nul_in_a_chunked_body_is_refused_too(
    client: FlaskClient, setup: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    """A server that hands a chunked body over without a Content-Length (Werkzeug's, gunicorn;
    waitress sets one once it has the body) keeps it from the NUL guard (app.guards): the
    body is still refused, by the JSON reader, before PostgreSQL would."""
    response = client.post(
        "/api/v1/records",
        input_stream=io.BytesIO(body_with('"a\\u0000b"')),
        headers={
            **setup["epb"],
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        # What such a server sets: the body ends where the stream does.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 400
    assert "NUL character (\\u0000) at records[0].CF_XDR_MC" in response.json["detail"]
    with session_factory() as session:
        assert session.scalars(select(SourceRecord)).all() == []


def test_surrogate_pairs_are_text_like_any_other(
    client: FlaskClient, setup: dict[str, Headers]
) -> None:
    response = client.post(
        "/api/v1/records",
        data=body_with('"\\ud83d\\ude00 \\u6cb3"'),
        headers={**setup["epb"], "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.json
    assert response.json["counts"]["fetched"] == 1


def test_source_ids_longer_than_the_column_keep_their_identity(
    client: FlaskClient, setup: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    """Keys were cut to the column's 200 characters when stored but looked up whole: pushed
    again, a record was not found, stored as version 1 once more and refused by the unique
    key (a 500); two ids sharing their first 200 characters collided the same way."""
    long_id = "编" * 250

    def record(source_id: str, fine: str = "5") -> dict[str, str]:
        # tax-push has no field mapping: canonical names, keyed by source_id
        return {
            "source_id": source_id,
            "party_name": "北京星河科技有限公司",
            "decision_number": "京税罚〔2026〕1号",
            "decision_date": "2026-03-01",
            "authority_name": "北京市税务局",
            "fine_amount": fine,
        }

    first = push(client, setup["tax"], [record(long_id), record(long_id[:200])], feed="tax-push")
    assert first.status_code == 200, first.json
    assert [i["status"] for i in first.json["items"]] == ["accepted", "accepted"]
    again = push(
        client, setup["tax"], [record(long_id), record(long_id[:200], "6")], feed="tax-push"
    )
    assert again.status_code == 200, again.json
    assert [i["status"] for i in again.json["items"]] == ["duplicate", "updated"]
    with session_factory() as session:
        keys = session.scalars(select(SourceRecord.source_key)).all()
        assert len(keys) == 3 and len(set(keys)) == 2
        assert all(len(key) <= 200 for key in keys)


def test_source_id_zero_is_an_id_and_a_structure_is_not(
    client: FlaskClient, setup: dict[str, Headers]
) -> None:
    """0 was refused as missing (it is falsy); an object was taken as the id "{'a': 1}"."""
    items = [penalty("1"), penalty("2"), penalty("3")]
    items[0]["source_id"], items[1]["source_id"], items[2]["source_id"] = 0, {"a": 1}, True
    response = push(client, setup["epb"], items)
    results = [(i["status"], i["errors"]) for i in response.json["items"]]
    assert results[0] == ("accepted", None)
    wrong = ("rejected", {"_record": ["source_id must be text or an integer"]})
    assert results[1:] == [wrong, wrong]


def test_one_source_id_several_times_in_one_request_is_taken_in_order(
    client: FlaskClient, setup: dict[str, Headers], session_factory: sessionmaker[Session]
) -> None:
    """Each item is judged against what came before it, in the request too: the same again
    is a duplicate, a change the next version, a bad one quarantined without undoing the
    version in force."""
    items = [
        penalty("1"),
        penalty("1"),
        penalty("7"),
        penalty("7", CF_NR_FK="9"),
        penalty("7", CF_JDRQ="bad"),
    ]
    response = push(client, setup["epb"], items)
    assert [i["status"] for i in response.json["items"]] == [
        "accepted",
        "duplicate",
        "accepted",
        "updated",
        "rejected",
    ]
    assert response.json["counts"]["fetched"] == 5
    with session_factory() as session:
        versions = session.scalars(
            select(SourceRecord)
            .where(SourceRecord.source_key == "7")
            .order_by(SourceRecord.version)
        ).all()
        assert [(v.version, v.status.value) for v in versions] == [
            (1, "superseded"),
            (2, "accepted"),
            (3, "quarantined"),
        ]
        credit = session.scalars(
            select(CreditRecord).where(CreditRecord.decision_number == "京环罚〔2026〕7号")
        ).one()
        assert (credit.source_record_id, credit.fine_amount) == (versions[1].id, 9)


def test_a_chunked_body_over_the_limit_is_refused_as_it_comes(app: Flask) -> None:
    """A chunked body has no Content-Length to refuse up front: waitress took up to 1 GB of
    one (spooled to disk) before the app answered 413. Now it stops at the app's limit, and
    the rest of a 64 MB body is never taken."""
    server = make_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    sent = 0
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=30)
        connection.putrequest("POST", "/api/v1/records")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        block = b"x" * (1 << 20)
        try:
            for _ in range(64):
                connection.send(b"%x\r\n%s\r\n" % (len(block), block))
                sent += 1
            connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server stopped reading once it had refused the body
        response = connection.getresponse()
        assert response.status == 413
        connection.close()
    finally:
        server.close()
        thread.join(timeout=10)
    assert sent < 64
