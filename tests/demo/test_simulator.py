"""The dishonest-debtor API simulator: paging, filtering, errors, appended records."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from demo.generator import generate_feeds
from demo.simulator import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, create_simulator

PATH = "/api/dishonest-debtors"


def make_record(n: int, updated_at: str) -> dict[str, Any]:
    return {
        "case_number": f"（2025）京0105执{n}号",
        "name": f"测试公司{n}",
        "party_type": "法人或其他组织",
        "id_number": "91110108551385082Q",
        "legal_rep": "张三",
        "court": "北京市朝阳区人民法院",
        "listed_on": "2025-01-01",
        "reason": "违反财产报告制度",
        "removed_on": None,
        "updated_at": updated_at,
    }


def write_records(path: Path, records: list[dict[str, Any]], mode: str = "w") -> None:
    with path.open(mode, encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    # 250 records on 50 distinct instants (ties on updated_at), written in reverse order.
    records = [make_record(n, f"2026-01-{1 + n // 10:02d}T08:00:{n % 5:02d}Z") for n in range(250)]
    path = tmp_path / "debtors.jsonl"
    write_records(path, list(reversed(records)))
    return path


@pytest.fixture
def sim(feed_file: Path) -> FlaskClient:
    return create_simulator(feed_file).test_client()


def fetch_all(sim: FlaskClient, **params: Any) -> Iterator[dict[str, Any]]:
    """Every page, following next_page_token until it is null."""
    query = dict(params)
    while True:
        response = sim.get(PATH, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"items", "next_page_token"}
        yield body
        if body["next_page_token"] is None:
            return
        query["page_token"] = body["next_page_token"]


def sort_key(item: dict[str, Any]) -> tuple[str, str]:
    return item["updated_at"], item["case_number"]


def test_pages_chain_and_cover_every_item_once(sim: FlaskClient) -> None:
    pages = list(fetch_all(sim, page_size=7))
    items = [item for page in pages for item in page["items"]]
    assert len(items) == 250
    assert len({item["case_number"] for item in items}) == 250
    assert items == sorted(items, key=sort_key)
    assert all(len(page["items"]) == 7 for page in pages[:-1])
    assert len(pages) == -(-250 // 7)


def test_default_page_size(sim: FlaskClient) -> None:
    body = sim.get(PATH).get_json()
    assert len(body["items"]) == DEFAULT_PAGE_SIZE
    assert body["next_page_token"]


def test_exact_multiple_of_page_size_ends_with_null_token(sim: FlaskClient) -> None:
    pages = list(fetch_all(sim, page_size=50))
    assert [len(p["items"]) for p in pages] == [50] * 5


def test_max_page_size_serves_all(sim: FlaskClient) -> None:
    body = sim.get(PATH, query_string={"page_size": MAX_PAGE_SIZE}).get_json()
    assert len(body["items"]) == 250
    assert body["next_page_token"] is None


def test_updated_since_is_inclusive(sim: FlaskClient) -> None:
    since = "2026-01-05T08:00:03Z"
    items = [i for p in fetch_all(sim, updated_since=since, page_size=20) for i in p["items"]]
    assert items
    assert min(i["updated_at"] for i in items) == since
    everything = [i for p in fetch_all(sim, page_size=1000) for i in p["items"]]
    assert items == [i for i in everything if i["updated_at"] >= since]


def test_updated_since_accepts_offsets_and_dates(sim: FlaskClient) -> None:
    utc = sim.get(PATH, query_string={"updated_since": "2026-01-20T08:00:00Z"}).get_json()
    beijing = sim.get(PATH, query_string={"updated_since": "2026-01-20T16:00:00+08:00"})
    assert beijing.get_json() == utc
    day = sim.get(PATH, query_string={"updated_since": "2026-01-20"}).get_json()
    assert [i["case_number"] for i in day["items"]] == [i["case_number"] for i in utc["items"]]
    late = sim.get(PATH, query_string={"updated_since": "2027-01-01T00:00:00Z"}).get_json()
    assert late == {"items": [], "next_page_token": None}


@pytest.mark.parametrize("size", ["0", "-1", "1001", "abc", "2.5"])
def test_bad_page_size_is_400(sim: FlaskClient, size: str) -> None:
    response = sim.get(PATH, query_string={"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.get_json()["error"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'["yesterday", "x"]').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_page_token_is_400(sim: FlaskClient, token: str) -> None:
    response = sim.get(PATH, query_string={"page_token": token})
    assert response.status_code == 400
    assert "page_token" in response.get_json()["error"]


def test_bad_updated_since_is_400(sim: FlaskClient) -> None:
    response = sim.get(PATH, query_string={"updated_since": "last tuesday"})
    assert response.status_code == 400
    assert "updated_since" in response.get_json()["error"]


def test_appended_records_appear(sim: FlaskClient, feed_file: Path) -> None:
    first = sim.get(PATH, query_string={"page_size": 200}).get_json()
    token = first["next_page_token"]
    write_records(
        feed_file,
        [make_record(1000, "2026-03-01T08:00:00Z"), make_record(1001, "2026-03-01T09:00:00Z")],
        mode="a",
    )
    rest = [i for p in fetch_all(sim, page_size=200, page_token=token) for i in p["items"]]
    assert len(rest) == 52
    assert [i["case_number"] for i in rest[-2:]] == [
        "（2025）京0105执1000号",
        "（2025）京0105执1001号",
    ]
    newer = sim.get(PATH, query_string={"updated_since": "2026-03-01T00:00:00Z"}).get_json()
    assert len(newer["items"]) == 2


def test_rewritten_file_is_reloaded(sim: FlaskClient, feed_file: Path) -> None:
    assert len(sim.get(PATH, query_string={"page_size": 1000}).get_json()["items"]) == 250
    write_records(feed_file, [make_record(1, "2026-01-01T00:00:00Z")])
    assert len(sim.get(PATH, query_string={"page_size": 1000}).get_json()["items"]) == 1


def test_blank_and_broken_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps(make_record(1, "2026-01-01T00:00:00Z")) + "\n\n{broken\n", encoding="utf-8"
    )
    body = create_simulator(path).test_client().get(PATH).get_json()
    assert [i["case_number"] for i in body["items"]] == ["（2025）京0105执1号"]


def test_custom_path(feed_file: Path) -> None:
    client = create_simulator(feed_file, path="/v2/debtors").test_client()
    assert client.get("/v2/debtors").status_code == 200
    assert client.get(PATH).status_code == 404


def test_serves_the_generated_feed(tmp_path: Path) -> None:
    summary = generate_feeds(entities=400, out_dir=tmp_path)
    (path,) = summary.files["court-dishonest-debtors"]
    client = create_simulator(path).test_client()
    items = [i for p in fetch_all(client, page_size=33) for i in p["items"]]
    assert len(items) == summary.records["court-dishonest-debtors"]
    assert items == sorted(items, key=sort_key)
    assert len({i["case_number"] for i in items}) == len(items)
    # Chinese is served as UTF-8 text, not \u escapes, as the departments' APIs do.
    raw = client.get(PATH).get_data(as_text=True)
    assert "人民法院" in raw
