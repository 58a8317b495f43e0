"""The HTTP pull adapter against a real local HTTP server (pytest-httpserver), no transport mocks.

Sleeps go to a list instead of the clock, so retry tests run instantly; only the timeout test
spends real (sub-second) time waiting on the server.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ingest.adapters.base import Batch, FetchError
from ingest.adapters.http_pull import HttpPullSettings, fetch_batches

PATH = "/api/dishonest-debtors"
Handler = Callable[[Request], Response]


def json_response(body: object) -> Response:
    return Response(json.dumps(body), mimetype="application/json")


def paged(pages: Mapping[str | None, tuple[list[dict[str, Any]], str | None]]) -> Handler:
    """A handler serving ``pages[page_token] = (items, next_page_token)``."""

    def handle(request: Request) -> Response:
        items, next_token = pages[request.args.get("page_token")]
        return json_response({"items": items, "next_page_token": next_token})

    return handle


def raw_by_token(bodies: Mapping[str | None, bytes]) -> Handler:
    def handle(request: Request) -> Response:
        return Response(bodies[request.args.get("page_token")], mimetype="application/json")

    return handle


def scripted(responses: list[Response]) -> Handler:
    """A handler answering with ``responses`` in order, repeating the last one."""
    calls = iter(responses)

    def handle(request: Request) -> Response:
        return next(calls, responses[-1])

    return handle


def serve(httpserver: HTTPServer, handler: Handler) -> None:
    httpserver.expect_request(PATH).respond_with_handler(handler)


def make_settings(httpserver: HTTPServer, **overrides: Any) -> HttpPullSettings:
    return HttpPullSettings(url=httpserver.url_for(PATH), **overrides)


def drain(batches: Iterator[Batch]) -> tuple[list[Batch], FetchError | None]:
    """What a consumer would have committed before the run failed, and the failure."""
    committed: list[Batch] = []
    try:
        for batch in batches:
            committed.append(batch)
    except FetchError as exc:
        return committed, exc
    return committed, None


def item(n: int, updated_at: str) -> dict[str, Any]:
    return {"id": n, "updated_at": updated_at, "name": f"企业{n}"}


def requests_made(httpserver: HTTPServer) -> list[Request]:
    return [request for request, _ in httpserver.log]


def no_sleep(seconds: float) -> None:
    pytest.fail(f"unexpected retry (would sleep {seconds} s)")


class CeilingRng(random.Random):
    """Always draws the top of the jitter range, so the exponential envelope itself is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


# --- the happy path ---------------------------------------------------------------------------


PAGE1 = [item(1, "2024-01-01T00:00:00Z"), item(2, "2024-01-02T00:00:00Z")]
PAGE2 = [item(3, "2024-01-03T00:00:00Z")]
PAGE3 = [item(4, "2024-01-04T00:00:00Z"), item(5, "2024-01-04T00:00:00Z")]
THREE_PAGES = {None: (PAGE1, "t2"), "t2": (PAGE2, "t3"), "t3": (PAGE3, None)}


def test_follows_tokens_through_three_pages_on_first_run(httpserver: HTTPServer) -> None:
    serve(httpserver, paged(THREE_PAGES))
    config = make_settings(httpserver, page_size=2)

    batches = list(fetch_batches(settings=config, watermark=None, sleep=no_sleep))

    assert [[r.payload for r in b.records] for b in batches] == [PAGE1, PAGE2, PAGE3]
    assert [r.origin for r in batches[0].records] == [
        f"{config.url} page 1 item 1",
        f"{config.url} page 1 item 2",
    ]
    assert batches[2].records[1].origin == f"{config.url} page 3 item 2"
    assert [b.watermark for b in batches] == [
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
        "2024-01-04T00:00:00Z",
    ]
    sent = [dict(request.args) for request in requests_made(httpserver)]
    # First ever run: no updated_since at all, not an empty one.
    assert sent == [
        {"page_size": "2"},
        {"page_size": "2", "page_token": "t2"},
        {"page_size": "2", "page_token": "t3"},
    ]


def test_every_page_asks_with_the_runs_starting_watermark(httpserver: HTTPServer) -> None:
    serve(httpserver, paged(THREE_PAGES))
    start = "2023-12-31T00:00:00Z"

    batches = list(fetch_batches(settings=make_settings(httpserver), watermark=start))

    assert len(batches) == 3
    sent = requests_made(httpserver)
    assert [request.args.get("updated_since") for request in sent] == [start] * 3
    assert [request.args.get("page_size") for request in sent] == ["100"] * 3


def test_empty_result_is_one_empty_batch_keeping_the_watermark(httpserver: HTTPServer) -> None:
    serve(httpserver, paged({None: ([], None)}))
    start = "2024-05-01T08:00:00+08:00"

    batches = list(fetch_batches(settings=make_settings(httpserver), watermark=start))

    assert [(b.records, b.watermark) for b in batches] == [([], start)]


def test_empty_first_run_leaves_watermark_unset(httpserver: HTTPServer) -> None:
    serve(httpserver, paged({None: ([], None)}))

    batches = list(fetch_batches(settings=make_settings(httpserver), watermark=None))

    assert [(b.records, b.watermark) for b in batches] == [([], None)]


def test_watermark_compares_instants_not_strings(httpserver: HTTPServer) -> None:
    # 09:00+08:00 is 01:00Z, earlier than 02:00Z although it sorts later as a string.
    later, earlier = "2024-03-01T02:00:00Z", "2024-03-01T09:00:00+08:00"
    serve(httpserver, paged({None: ([item(1, earlier), item(2, later)], None)}))

    [batch] = fetch_batches(settings=make_settings(httpserver), watermark=None)

    assert batch.watermark == later


def test_watermark_never_moves_backwards(httpserver: HTTPServer) -> None:
    # A server ignoring updated_since must not rewind the cursor.
    serve(httpserver, paged({None: ([item(1, "2024-01-01T00:00:00Z")], None)}))
    start = "2024-06-01T00:00:00Z"

    [batch] = fetch_batches(settings=make_settings(httpserver), watermark=start)

    assert batch.watermark == start


def test_configurable_field_names_and_headers(httpserver: HTTPServer) -> None:
    def handle(request: Request) -> Response:
        assert request.headers.get("Authorization") == "Bearer s3cret"
        if request.args.get("page_token") is None:
            return json_response({"data": [{"modified": "2024-01-01"}], "next": "p2"})
        return json_response({"data": [{"modified": "2024-01-02"}]})

    serve(httpserver, handle)
    config = make_settings(
        httpserver,
        cursor_field="modified",
        items_field="data",
        next_field="next",
        headers={"Authorization": "Bearer s3cret"},
    )

    batches = list(fetch_batches(settings=config, watermark=None))

    assert [b.watermark for b in batches] == ["2024-01-01", "2024-01-02"]
    assert len(requests_made(httpserver)) == 2
    httpserver.check_handler_errors()


def test_given_session_is_used_and_left_open(httpserver: HTTPServer) -> None:
    serve(httpserver, paged({None: ([item(1, "2024-01-01T00:00:00Z")], None)}))
    with requests.Session() as session:
        session.headers["X-Trace"] = "abc"
        list(fetch_batches(settings=make_settings(httpserver), watermark=None, session=session))
        # Still usable: the adapter does not close what it did not open.
        with session.get(httpserver.url_for(PATH)) as response:
            assert response.status_code == 200
    assert requests_made(httpserver)[0].headers.get("X-Trace") == "abc"


# --- retries ----------------------------------------------------------------------------------


def test_503_twice_then_success_backs_off_with_seeded_jitter(httpserver: HTTPServer) -> None:
    ok = json_response({"items": [item(1, "2024-01-01T00:00:00Z")], "next_page_token": None})
    serve(httpserver, scripted([Response("busy", status=503)] * 2 + [ok]))
    sleeps: list[float] = []

    batches = list(
        fetch_batches(
            settings=make_settings(httpserver, backoff_base=0.5),
            watermark=None,
            sleep=sleeps.append,
            rng=random.Random(1234),
        )
    )

    assert [b.watermark for b in batches] == ["2024-01-01T00:00:00Z"]
    assert len(requests_made(httpserver)) == 3
    expected_rng = random.Random(1234)
    assert sleeps == [expected_rng.uniform(0, 0.5), expected_rng.uniform(0, 1.0)]
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0


def test_persistent_500_fails_after_max_retries_with_capped_exponential_backoff(
    httpserver: HTTPServer,
) -> None:
    serve(httpserver, scripted([Response("boom", status=500)]))
    sleeps: list[float] = []
    config = make_settings(httpserver, max_retries=4, backoff_base=0.5, backoff_max=3.0)

    batches, error = drain(
        fetch_batches(settings=config, watermark=None, sleep=sleeps.append, rng=CeilingRng())
    )

    assert batches == []
    assert error is not None
    assert "HTTP 500" in str(error)
    assert "5 attempts" in str(error)
    assert config.url in str(error)
    assert len(requests_made(httpserver)) == 5
    # The envelope doubles until backoff_max; no sleep after the last attempt.
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_429_retry_after_seconds_is_honoured(httpserver: HTTPServer) -> None:
    ok = json_response({"items": [], "next_page_token": None})
    serve(
        httpserver, scripted([Response("slow down", status=429, headers={"Retry-After": "7"}), ok])
    )
    sleeps: list[float] = []

    batches = list(
        fetch_batches(
            settings=make_settings(httpserver, backoff_max=1.0),
            watermark=None,
            sleep=sleeps.append,
            rng=random.Random(0),
        )
    )

    assert len(batches) == 1
    # Longer than backoff_max: the server's explicit request wins over our own schedule.
    assert len(sleeps) == 1
    assert sleeps[0] >= 7


def test_503_retry_after_http_date_is_honoured(httpserver: HTTPServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    ok = json_response({"items": [], "next_page_token": None})
    serve(httpserver, scripted([Response("", status=503, headers={"Retry-After": when}), ok]))
    sleeps: list[float] = []

    list(fetch_batches(settings=make_settings(httpserver), watermark=None, sleep=sleeps.append))

    # The header has one-second resolution and some wall time passes before it is read.
    assert len(sleeps) == 1
    assert 15 <= sleeps[0] <= 20


def test_retry_after_is_capped(httpserver: HTTPServer) -> None:
    ok = json_response({"items": [], "next_page_token": None})
    serve(httpserver, scripted([Response("", status=429, headers={"Retry-After": "86400"}), ok]))
    sleeps: list[float] = []

    list(fetch_batches(settings=make_settings(httpserver), watermark=None, sleep=sleeps.append))

    assert sleeps == [300.0]


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_error_fails_at_once(httpserver: HTTPServer, status: int) -> None:
    serve(httpserver, scripted([Response("no such feed: " + "x" * 1000, status=status)]))
    sleeps: list[float] = []

    batches, error = drain(
        fetch_batches(settings=make_settings(httpserver), watermark=None, sleep=sleeps.append)
    )

    assert batches == []
    assert error is not None
    assert f"HTTP {status}" in str(error)
    assert "no such feed" in str(error)
    assert len(str(error)) < 500  # an excerpt, not the whole body
    assert len(requests_made(httpserver)) == 1
    assert sleeps == []


def test_timeout_is_retried_then_fails(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return json_response({"items": [], "next_page_token": None})

    serve(httpserver, slow)
    sleeps: list[float] = []
    config = make_settings(httpserver, timeout=0.2, max_retries=1)

    batches, error = drain(fetch_batches(settings=config, watermark=None, sleep=sleeps.append))

    assert batches == []
    assert error is not None
    assert "2 attempts" in str(error)
    assert "Timeout" in str(error)
    assert len(sleeps) == 1
    # The single-threaded server is still sleeping on the abandoned requests; wait for them so
    # they do not end up in the next test's request log.
    deadline = time.monotonic() + 5
    while len(requests_made(httpserver)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(requests_made(httpserver)) == 2


def test_a_body_dripping_in_within_the_read_timeout_still_times_out(
    httpserver: HTTPServer,
) -> None:
    """Each byte came well within ``timeout`` (which is per read), so a server sending one a
    second held the run for as long as it liked; ``page_timeout`` bounds the whole page."""
    body = b'{"items": [], "next_page_token": null}'

    def drip(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for byte in body:
                time.sleep(0.1)
                yield bytes([byte])

        return Response(chunks(), mimetype="application/json")

    serve(httpserver, drip)
    config = make_settings(httpserver, timeout=1.0, page_timeout=0.5, max_retries=0)
    started = time.monotonic()

    batches, error = drain(fetch_batches(settings=config, watermark=None))

    assert time.monotonic() - started < 2
    assert batches == []
    assert error is not None
    assert "took longer than 0.5 s" in str(error)


def test_a_gigantic_body_is_refused_at_the_cap(httpserver: HTTPServer) -> None:
    """The whole body was read into memory, whatever its size (300 MB took 935 MB)."""

    def gigantic(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield b'{"items": [], "padding": "'
            for _ in range(80):
                yield b"x" * (1 << 20)
            yield b'"}'

        return Response(chunks(), mimetype="application/json")

    serve(httpserver, gigantic)

    batches, error = drain(fetch_batches(settings=make_settings(httpserver), watermark=None))

    assert batches == []
    assert error is not None
    assert "body is larger than 64 MB; lower the feed's page_size" in str(error)
    assert len(requests_made(httpserver)) == 1  # the same answer again: not retried


def test_a_declared_gigantic_body_is_refused_unread(httpserver: HTTPServer) -> None:
    def declared(request: Request) -> Response:
        response = Response(b"{}", mimetype="application/json")
        response.headers["Content-Length"] = str(1 << 40)
        return response

    serve(httpserver, declared)

    _, error = drain(
        fetch_batches(settings=make_settings(httpserver), watermark=None, sleep=no_sleep)
    )

    assert error is not None and "body is larger than 64 MB" in str(error)


def test_a_redirect_is_not_followed_and_no_header_goes_to_another_host(
    httpserver: HTTPServer,
) -> None:
    """requests followed redirects, and drops only Authorization on the way to another
    host: an API key in any other header went along."""
    other = HTTPServer(host="localhost")
    other.expect_request("/elsewhere").respond_with_json({"items": []})
    other.start()
    try:
        target = other.url_for("/elsewhere")
        serve(httpserver, scripted([Response("", status=302, headers={"Location": target})]))
        config = make_settings(httpserver, headers={"X-Api-Key": "s3cret"})

        batches, error = drain(fetch_batches(settings=config, watermark=None, sleep=no_sleep))

        assert other.log == []
    finally:
        other.stop()
    assert batches == []
    assert error is not None
    assert f"HTTP 302, a redirect to {target!r}: redirects are not followed" in str(error)


def test_body_shorter_than_content_length_is_retried_as_connection_error(
    httpserver: HTTPServer,
) -> None:
    # The test server speaks HTTP/1.0 and closes the connection after the short body.
    def truncated(request: Request) -> Response:
        body = b'{"items": [], "next_page_token": null}'
        response = Response(body, mimetype="application/json")
        response.headers["Content-Length"] = str(len(body) + 50)
        return response

    serve(httpserver, truncated)
    config = make_settings(httpserver, max_retries=1, timeout=2.0)

    batches, error = drain(fetch_batches(settings=config, watermark=None, sleep=lambda _: None))

    assert batches == []
    assert error is not None
    assert "2 attempts" in str(error)
    assert len(requests_made(httpserver)) == 2


# --- broken bodies ----------------------------------------------------------------------------


BROKEN_BODIES = {
    "not json": (b"<html>gateway says hi</html>", "not valid JSON"),
    "truncated json": (b'{"items": [{"a": 1}', "not valid JSON"),
    "NaN": (b'{"items": [{"updated_at": NaN}]}', "NaN, which is not a JSON number"),
    "1e999": (b'{"items": [{"fine": 1e999}]}', "the number 1e999, beyond the range of a double"),
    "lone surrogate": (
        b'{"items": [{"name": "\\ud800"}]}',
        "lone surrogate (\\ud800) at items[0].name",
    ),
    "NUL": (b'{"items": [{"name": "a\\u0000"}]}', "NUL character (\\u0000) at items[0].name"),
    "integer too long": (b'{"items": [{"n": ' + b"9" * 5000 + b"}]}", "an integer of 5000 digits"),
    "nested too deep": (b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "deeper than 64"),
    "not an object": (b"[1, 2, 3]", "expected a JSON object, got list"),
    "items missing": (b'{"next_page_token": null}', "'items' is missing"),
    "items not a list": (b'{"items": {"a": 1}}', "'items' is not a list"),
    "item not an object": (b'{"items": [42]}', "item 1: expected a JSON object"),
    "cursor missing": (b'{"items": [{"id": 1}]}', "missing cursor field 'updated_at'"),
    "cursor not a string": (b'{"items": [{"updated_at": 5}]}', "expected an ISO-8601 string"),
    "cursor not a date": (b'{"items": [{"updated_at": "yesterday"}]}', "not an ISO-8601"),
    "token not a string": (b'{"items": [], "next_page_token": 2}', "must be a string or null"),
    "mixed naive and aware": (
        b'{"items": [{"updated_at": "2024-01-01T00:00:00Z"}, '
        b'{"updated_at": "2024-01-02T00:00:00"}]}',
        "mix naive and zone-aware",
    ),
}


@pytest.mark.parametrize(("body", "message"), BROKEN_BODIES.values(), ids=BROKEN_BODIES.keys())
def test_broken_first_page_fails_without_a_batch(
    httpserver: HTTPServer, body: bytes, message: str
) -> None:
    serve(httpserver, raw_by_token({None: body}))

    batches, error = drain(fetch_batches(settings=make_settings(httpserver), watermark=None))

    assert batches == []
    assert error is not None
    assert message in str(error)
    # Invalid content is not a transient failure: no retry.
    assert len(requests_made(httpserver)) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [BROKEN_BODIES[key] for key in ("truncated json", "items not a list", "cursor missing")],
    ids=["truncated json", "items not a list", "cursor missing"],
)
def test_broken_second_page_leaves_only_the_first_committed(
    httpserver: HTTPServer, body: bytes, message: str
) -> None:
    first = json.dumps({"items": PAGE1, "next_page_token": "t2"}).encode()
    serve(httpserver, raw_by_token({None: first, "t2": body}))
    config = make_settings(httpserver)

    batches, error = drain(fetch_batches(settings=config, watermark="2023-01-01T00:00:00Z"))

    assert [[r.payload for r in b.records] for b in batches] == [PAGE1]
    assert batches[0].watermark == "2024-01-02T00:00:00Z"
    assert error is not None
    assert message in str(error)
    assert f"{config.url} page 2" in str(error)


def test_repeated_page_token_is_a_loop(httpserver: HTTPServer) -> None:
    serve(
        httpserver,
        paged({None: (PAGE1, "a"), "a": (PAGE2, "b"), "b": (PAGE3, "a")}),
    )

    batches, error = drain(fetch_batches(settings=make_settings(httpserver), watermark=None))

    # Page 3 is not handed over: the run is already known to be broken.
    assert len(batches) == 2
    assert error is not None
    assert "'a' was already returned" in str(error)
    assert len(requests_made(httpserver)) == 3


def test_endless_new_page_tokens_stop_at_max_pages(httpserver: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        n = int(request.args.get("page_token", "0"))
        return json_response(
            {"items": [item(n, "2024-01-01T00:00:00Z")], "next_page_token": str(n + 1)}
        )

    serve(httpserver, endless)

    batches, error = drain(
        fetch_batches(settings=make_settings(httpserver, max_pages=3), watermark=None)
    )

    assert len(batches) == 3
    assert error is not None and "more than 3 pages in one run (max_pages)" in str(error)
    assert len(requests_made(httpserver)) == 3


def test_unreadable_stored_watermark_fails_before_any_request(httpserver: HTTPServer) -> None:
    serve(httpserver, paged({None: ([], None)}))

    with pytest.raises(FetchError, match="stored watermark"):
        list(fetch_batches(settings=make_settings(httpserver), watermark="last tuesday"))
    assert requests_made(httpserver) == []


# --- properties -------------------------------------------------------------------------------


ZONES = [timedelta(0), timedelta(hours=8), timedelta(hours=-5, minutes=-30)]
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
stamped = st.tuples(moments, st.sampled_from(ZONES))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stamps=st.lists(stamped, max_size=12), page_size=st.integers(min_value=1, max_value=5))
def test_batches_cover_the_feed_and_track_the_running_maximum(
    httpserver: HTTPServer, stamps: list[tuple[datetime, timedelta]], page_size: int
) -> None:
    httpserver.clear()
    # The server sorts by instant; written in mixed offsets, the strings need not sort.
    ordered = sorted(stamps, key=lambda s: s[0])
    items: list[dict[str, Any]] = [
        {"id": n, "updated_at": moment.astimezone(timezone(offset)).isoformat()}
        for n, (moment, offset) in enumerate(ordered)
    ]
    chunks = [items[i : i + page_size] for i in range(0, len(items), page_size)] or [[]]
    pages = {
        (None if i == 0 else f"p{i}"): (chunk, f"p{i + 1}" if i + 1 < len(chunks) else None)
        for i, chunk in enumerate(chunks)
    }
    serve(httpserver, paged(pages))

    batches = list(fetch_batches(settings=make_settings(httpserver), watermark=None))

    assert [r.payload for b in batches for r in b.records] == items
    assert len(batches) == len(chunks)
    seen = 0
    for batch in batches:
        seen += len(batch.records)
        if seen:
            latest = max(items[:seen], key=lambda i: datetime.fromisoformat(i["updated_at"]))
            assert batch.watermark is not None
            assert datetime.fromisoformat(batch.watermark) == datetime.fromisoformat(
                latest["updated_at"]
            )
        else:
            assert batch.watermark is None


# --- settings ---------------------------------------------------------------------------------


def test_from_settings_reads_a_catalogue_adapter_table() -> None:
    config = HttpPullSettings.from_settings(
        {
            "kind": "http_pull",
            "url": "http://127.0.0.1:5050/api/dishonest-debtors",
            "page_size": 50,
            "timeout": 10,
            "headers": {"Authorization": "Bearer s3cret"},
        }
    )

    assert config.page_size == 50
    assert config.timeout == 10.0
    assert isinstance(config.timeout, float)
    assert config.max_retries == 5
    assert dict(config.headers) == {"Authorization": "Bearer s3cret"}
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("adapter_settings", "key"),
    [
        ({"page_size": 10}, "url"),
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "http://x/api", "page_size": 0}, "page_size"),
        ({"url": "http://x/api", "page_size": "100"}, "page_size"),
        ({"url": "http://x/api", "page_size": True}, "page_size"),
        ({"url": "http://x/api", "timeout": 0}, "timeout"),
        ({"url": "http://x/api", "max_retries": -1}, "max_retries"),
        ({"url": "http://x/api", "max_pages": 0}, "max_pages"),
        ({"url": "http://x/api", "backoff_max": "30"}, "backoff_max"),
        ({"url": "http://x/api", "cursor_field": ""}, "cursor_field"),
        ({"url": "http://x/api", "headers": {"X-N": 1}}, "headers"),
        ({"url": "http://x/api", "pagesize": 10}, "pagesize"),
    ],
)
def test_from_settings_names_the_bad_key(adapter_settings: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=rf"^{key}:"):
        HttpPullSettings.from_settings(adapter_settings)


def test_settings_do_not_share_the_callers_headers() -> None:
    headers = {"Authorization": "Bearer one"}
    config = HttpPullSettings(url="http://x/api", headers=headers)
    headers["Authorization"] = "Bearer two"

    assert config.headers["Authorization"] == "Bearer one"
