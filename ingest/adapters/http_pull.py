"""Paginated HTTP JSON pull: the department API protocol (also served by our simulator).

``GET {url}?updated_since={watermark}&page_size={n}[&page_token={token}]`` answers ``200`` with
``{"items": [...], "next_page_token": "..." | null}``. Items are sorted ascending by
(cursor, id) and ``updated_since`` is inclusive, so every page of a run is asked with the run's
*starting* watermark and the token alone moves through the result set.

Each page becomes one :class:`Batch` whose watermark is the largest cursor seen so far in the
run. Because the pipeline commits a batch's records together with its watermark, a failure on
page *k* leaves the feed's cursor at the end of page *k - 1*; the next run asks again from there.
The inclusive ``updated_since`` means the boundary records are delivered again on the next run;
the pipeline recognises those as duplicates by payload hash, which is cheaper than risking a
record that shares the boundary timestamp being skipped.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

import requests
import urllib3

from core.json_input import JsonRefused, loads
from ingest.adapters.base import Batch, FetchError, RawRecord

# A server asking for a longer pause than this is more likely misconfigured than overloaded;
# waiting longer would only hold a scheduler slot.
RETRY_AFTER_CAP = 300.0
# Enough of an error body to recognise the server's message without flooding the run log.
BODY_EXCERPT_CHARS = 200
# A page is held in memory whole (and then parsed); a bigger one is refused, not retried.
MAX_BODY_BYTES = 64 << 20
_READ_SIZE = 1 << 16
# 2**60 seconds is already far beyond any backoff_max; capping the exponent avoids an
# OverflowError when someone configures an absurd max_retries.
_MAX_BACKOFF_EXPONENT = 60

# Connection-level failures, including a body cut short before Content-Length was reached
# (urllib3 reports that as a protocol error, which requests raises as ChunkedEncodingError).
# All of these are transient as far as we can tell, so they are retried.
_RETRYABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class HttpPullSettings:
    """How to pull one feed; built from the feed's ``adapter_settings`` by :meth:`from_settings`.

    Invalid values raise ``ValueError`` naming the field, whether the object is built directly or
    from settings.
    """

    url: str
    page_size: int = 100
    # Seconds, applied to the connect and to each read separately.
    timeout: float = 10.0
    # Seconds a page may take in all: a server sending a byte now and then, each within
    # ``timeout``, would otherwise hold the run (and its feed's lease) as long as it liked.
    page_timeout: float = 120.0
    max_retries: int = 5
    # Pages one run may read: a server handing out endless new page tokens would otherwise
    # hold the run (renewing its feed's lease page by page) for ever. Pages read are stored,
    # so a feed really this large goes on from their watermark in the next run.
    max_pages: int = 10_000
    # Seconds; retry n waits uniform(0, min(backoff_max, backoff_base * 2**n)).
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    cursor_field: str = "updated_at"
    items_field: str = "items"
    next_field: str = "next_page_token"
    # Kept out of repr (and so out of logs and error messages): it usually holds credentials.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: expected an http:// or https:// URL, got {self.url!r}")
        _check_int("page_size", self.page_size, minimum=1)
        _check_number("timeout", self.timeout, positive=True)
        _check_number("page_timeout", self.page_timeout, positive=True)
        _check_int("max_retries", self.max_retries, minimum=0)
        _check_int("max_pages", self.max_pages, minimum=1)
        _check_number("backoff_base", self.backoff_base, positive=False)
        _check_number("backoff_max", self.backoff_max, positive=False)
        for name in ("cursor_field", "items_field", "next_field"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
        if not isinstance(self.headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
        ):
            raise ValueError("headers: expected a table of string names to string values")
        # A private read-only copy: the caller's dict cannot change a frozen settings object.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HttpPullSettings:
        """Build settings from a feed's ``adapter_settings`` (the catalogue's ``adapter`` table).

        The key ``kind`` (which selected this adapter) is ignored. Raises ``ValueError`` naming
        the key when ``url`` is missing, a key is unknown (most likely a typo that would
        otherwise be silently ignored) or a value has the wrong type or range. Integer values
        are accepted for the float settings, since TOML writes ``timeout = 10`` as an integer.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known - {"kind"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown http_pull setting")
        if "url" not in settings:
            raise ValueError("url: missing required http_pull setting")
        values = {name: value for name, value in settings.items() if name in known}
        for name in ("timeout", "page_timeout", "backoff_base", "backoff_max"):
            value = values.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                values[name] = float(value)
        return cls(**values)


def fetch_batches(
    *,
    settings: HttpPullSettings,
    watermark: str | None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Iterator[Batch]:
    """Yield one :class:`Batch` per page of records updated at or after ``watermark``.

    ``watermark`` None (first ever run) omits ``updated_since`` and pulls everything. Each
    batch's watermark is the largest cursor seen so far in the run, compared as parsed
    ISO-8601 datetimes but returned as the source's original string; it never drops below the
    incoming watermark, so an empty result gives one batch with no records and the incoming
    watermark unchanged (one batch rather than none keeps "one batch per page" without
    exceptions). Records' origins read ``"{url} page {n} item {i}"``, both 1-based.

    A session created here is closed when the generator finishes or is closed; a given session
    is left open for its owner. ``sleep`` and ``rng`` are injectable so tests need not wait.

    Raises :class:`FetchError`, before the failing page's batch is yielded, when:

    - connection errors, timeouts, truncated bodies, ``5xx`` or ``429`` persist after
      ``max_retries`` retries (the message names the last status or error, URL and attempts);
    - a page takes longer than ``page_timeout`` in all, after retries;
    - the server answers another ``4xx``, or a redirect (never followed: the feed's headers,
      credentials included, would go along to wherever it points), without retrying;
    - the body is larger than :data:`MAX_BODY_BYTES`, without retrying;
    - the body is not a JSON object, ``items`` is missing or not a list, an item is not an
      object or lacks a string ISO-8601 cursor, cursors mix naive and zone-aware times, or
      the next page token is neither a string nor null;
    - a next page token repeats within the run (a server paging in a loop);
    - the run would read more than ``max_pages`` pages;
    - the incoming ``watermark`` is not ISO-8601.
    """
    rng = rng if rng is not None else random.Random()
    own_session = session is None
    http = requests.Session() if session is None else session
    try:
        best = _Cursor(watermark, source="the stored watermark") if watermark is not None else None
        seen_tokens: set[str] = set()
        token: str | None = None
        page = 0
        while True:
            page += 1
            if page > settings.max_pages:
                raise FetchError(
                    f"{settings.url}: more than {settings.max_pages} pages in one run "
                    "(max_pages); the pages read are stored and the next run goes on from "
                    "their watermark"
                )
            where = f"{settings.url} page {page}"
            body = _get_json(
                http=http,
                settings=settings,
                params=_page_params(settings, watermark=watermark, token=token),
                where=where,
                sleep=sleep,
                rng=rng,
            )
            items, token = _parse_page(body, settings=settings, where=where)
            records, best = _page_records(items, settings=settings, where=where, best=best)
            # Validated before yielding so a bad token never lets a batch through that the
            # consumer then commits while the run is already known to be broken.
            _remember_token(token, seen_tokens, where=where)
            yield Batch(records=records, watermark=best.raw if best is not None else None)
            if token is None:
                return
    finally:
        if own_session:
            http.close()


def _page_params(
    settings: HttpPullSettings, *, watermark: str | None, token: str | None
) -> dict[str, str | int]:
    """A page's query: every page of a run is asked from the run's starting watermark; the
    token alone moves through the result set."""
    params: dict[str, str | int] = {"page_size": settings.page_size}
    if watermark is not None:
        params["updated_since"] = watermark
    if token is not None:
        params["page_token"] = token
    return params


def _page_records(
    items: list[dict[str, Any]], *, settings: HttpPullSettings, where: str, best: _Cursor | None
) -> tuple[list[RawRecord], _Cursor | None]:
    """The page's items as records, and the largest cursor seen so far in the run."""
    records: list[RawRecord] = []
    for index, item in enumerate(items, start=1):
        origin = f"{where} item {index}"
        cursor = _Cursor(
            item.get(settings.cursor_field), source=f"{origin} {settings.cursor_field}"
        )
        if best is None or cursor.after(best):
            best = cursor
        records.append(RawRecord(payload=item, origin=origin))
    return records, best


def _remember_token(token: str | None, seen_tokens: set[str], *, where: str) -> None:
    """Adds the next page token to those of the run; one seen before means the server pages
    in a loop."""
    if token is None:
        return
    if token in seen_tokens:
        raise FetchError(
            f"{where}: next page token {token!r} was already returned earlier in this "
            "run; the server is paging in a loop"
        )
    seen_tokens.add(token)


class _Cursor:
    """A cursor value kept as the source's string, ordered by its parsed datetime.

    Parsing matters: offsets (``+08:00`` vs ``Z``) and fractional seconds of varying length do
    not sort correctly as strings.
    """

    def __init__(self, raw: object, *, source: str) -> None:
        if not isinstance(raw, str):
            raise FetchError(f"{source}: expected an ISO-8601 string, got {raw!r}")
        try:
            self.moment = datetime.fromisoformat(raw)
        except ValueError:
            raise FetchError(f"{source}: {raw!r} is not an ISO-8601 date-time") from None
        self.raw = raw
        self.source = source

    def after(self, other: _Cursor) -> bool:
        # Guessing a zone for naive values would silently reorder records (the departments
        # mostly mean UTC+8, not UTC), so a mix is reported rather than resolved.
        if (self.moment.tzinfo is None) != (other.moment.tzinfo is None):
            raise FetchError(
                f"{self.source}: {self.raw!r} and {other.raw!r} ({other.source}) mix naive and "
                "zone-aware times and cannot be ordered"
            )
        return self.moment > other.moment


def _get_json(
    *,
    http: requests.Session,
    settings: HttpPullSettings,
    params: Mapping[str, str | int],
    where: str,
    sleep: Callable[[float], None],
    rng: random.Random,
) -> object:
    """GET one page with retries and return its decoded JSON body.

    Raises FetchError as described in :func:`fetch_batches`.
    """
    headers = {"Accept": "application/json", **settings.headers}
    attempts = settings.max_retries + 1
    for attempt in range(attempts):
        retry_after: float | None = None
        try:
            with http.get(
                settings.url,
                params=params,
                headers=headers,
                timeout=settings.timeout,
                stream=True,
                allow_redirects=False,
            ) as response:
                status = response.status_code
                location = response.headers.get("Location")
                content = _read_body(response, settings=settings, where=where)
                if status in (429, 503):
                    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        except _RETRYABLE_EXCEPTIONS as exc:
            failure = f"{type(exc).__name__}: {exc}"
        except requests.RequestException as exc:
            # Invalid URL, too many redirects and the like: retrying cannot help.
            raise FetchError(f"GET {where} failed: {type(exc).__name__}: {exc}") from exc
        else:
            if 200 <= status < 300:
                return _decode(content, where=where)
            if 300 <= status < 400:
                raise FetchError(
                    f"GET {where} answered HTTP {status}, a redirect to {location!r}: redirects "
                    "are not followed (the feed's headers, credentials too, would go along); "
                    "set the feed's url to the new address"
                )
            if status != 429 and status < 500:
                raise FetchError(f"GET {where} answered HTTP {status}: {_excerpt(content)!r}")
            failure = f"HTTP {status}"
        if attempt + 1 < attempts:
            sleep(retry_after if retry_after is not None else _backoff(settings, attempt, rng))
    raise FetchError(f"GET {where} failed after {attempts} attempts; last failure: {failure}")


def _read_body(response: requests.Response, *, settings: HttpPullSettings, where: str) -> bytes:
    """The body, read as it arrives, within ``page_timeout`` and :data:`MAX_BODY_BYTES`.

    Raises FetchError for a body over the cap; requests' own exceptions otherwise (as
    ``iter_content`` raises them), so a timeout or a connection cut short is retried."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise FetchError(_too_large(where))
    deadline = time.monotonic() + settings.page_timeout
    body = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise requests.exceptions.ReadTimeout(
                f"the page took longer than {settings.page_timeout:g} s (page_timeout)"
            )
        # read1 returns what has arrived; read (and iter_content) waits for a whole block,
        # however slowly it comes.
        try:
            chunk = response.raw.read1(_READ_SIZE, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FetchError(_too_large(where))


def _too_large(where: str) -> str:
    return (
        f"GET {where}: the body is larger than {MAX_BODY_BYTES >> 20} MB; lower the feed's "
        "page_size"
    )


def _backoff(settings: HttpPullSettings, attempt: int, rng: random.Random) -> float:
    # Full jitter spreads many feeds retrying the same struggling server over the whole window.
    ceiling = settings.backoff_base * 2 ** min(attempt, _MAX_BACKOFF_EXPONENT)
    return rng.uniform(0, min(settings.backoff_max, ceiling))


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped.

    None when absent or unreadable, so the caller falls back to the jittered backoff.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            # RFC 9110 dates are always GMT; "-0000" parses as naive.
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _decode(content: bytes, *, where: str) -> object:
    # core.json_input also refuses what parses but no database stores (NaN, 1e999, a lone
    # surrogate, NUL, nesting past the recursion limit): the page fails here, clearly, rather
    # than its batch when it is stored.
    try:
        return loads(content)
    except JsonRefused as exc:
        # "is not valid JSON" is also what a body truncated mid-document looks like when the
        # length header agreed.
        raise FetchError(f"GET {where} returned a body that {exc}: {_excerpt(content)!r}") from None


def _parse_page(
    body: object, *, settings: HttpPullSettings, where: str
) -> tuple[list[dict[str, Any]], str | None]:
    if not isinstance(body, dict):
        raise FetchError(f"{where}: expected a JSON object, got {type(body).__name__}")
    items = body.get(settings.items_field)
    if not isinstance(items, list):
        problem = "is missing" if settings.items_field not in body else "is not a list"
        raise FetchError(f"{where}: {settings.items_field!r} {problem}")
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise FetchError(
                f"{where} item {index}: expected a JSON object, got {type(item).__name__}"
            )
        if settings.cursor_field not in item:
            raise FetchError(
                f"{where} item {index}: missing cursor field {settings.cursor_field!r}"
            )
    token = body.get(settings.next_field)
    if token is not None and not isinstance(token, str):
        raise FetchError(
            f"{where}: {settings.next_field!r} must be a string or null, got {token!r}"
        )
    # An empty token is how several APIs say "no more pages"; following it would re-request the
    # first page.
    return items, token or None


def _excerpt(content: bytes) -> str:
    text = content[:BODY_EXCERPT_CHARS].decode("utf-8", errors="replace")
    return text + ("..." if len(content) > BODY_EXCERPT_CHARS else "")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def _check_number(name: str, value: object, *, positive: bool) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value!r}")
