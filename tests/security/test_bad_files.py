"""Issue 14, attack 11: one file in a drop folder that could not be read (a header naming a
column twice, a wrong encoding) failed the run, and every later run on it again, so no file
after it was ever read. Now such a file is set aside with its reason, shown in the run, on
``/feeds`` (page and API) and in the data-quality report; the run reads the next files, and
the bad file is tried again only once it changes (or the feed's catalogue entry does)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, Feed, IngestedFile, IngestRunStatus, Role, utcnow
from ingest.runner import RunSummary
from tests.ingest.conftest import PENALTY_HEADER, penalty_row, write_penalties
from tests.support.api import make_token
from tests.support.builders import make_department
from tests.support.pages import sign_in

Run = Callable[[str], RunSummary]
DUPLICATED = PENALTY_HEADER.replace("CF_CFJG", "CF_XDR_MC")


def drop_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    write_penalties(folder / "a_good.csv", [penalty_row(CF_XZCFJDSWH="A1")])
    # The header names CF_XDR_MC twice.
    (folder / "b_header.csv").write_text(
        "\n".join([DUPLICATED, penalty_row(CF_XZCFJDSWH="B1")]) + "\n", encoding="utf-8"
    )
    # Neither UTF-8 nor GB18030.
    write_penalties(folder / "c_bytes.csv", [penalty_row(CF_XZCFJDSWH="C1")])
    with (folder / "c_bytes.csv").open("ab") as handle:
        handle.write(b"\xff\xfe\xff,x\n")
    (folder / "d_broken.json").write_text('{"items": [', encoding="utf-8")
    write_penalties(folder / "e_good.csv", [penalty_row(CF_XZCFJDSWH="E1")])
    return folder


def numbers(session_factory: sessionmaker[Session]) -> list[str | None]:
    with session_factory() as session:
        return sorted(session.scalars(select(CreditRecord.decision_number)))


def test_bad_files_are_set_aside_and_the_run_goes_on(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed(adapter_settings={"path": str(tmp_path / "drop")}, format="csv")
    folder = drop_folder(tmp_path)
    (folder / "d_broken.json").unlink()  # a CSV feed reads no JSON; that one is for the next
    os.symlink("/etc/passwd", folder / "f_link.csv")

    first = run("env")

    assert first.status is IngestRunStatus.SUCCEEDED, first.error
    assert numbers(session_factory) == ["A1", "E1"]
    reasons = dict(first.set_aside)
    assert set(reasons) == {"b_header.csv", "c_bytes.csv", "f_link.csv"}
    assert "names column 'CF_XDR_MC' twice" in reasons["b_header.csv"]
    assert "neither UTF-8" in reasons["c_bytes.csv"]
    assert "links to a file outside the drop folder" in reasons["f_link.csv"]
    with session_factory() as session:
        assert "root:" not in str(session.scalars(select(CreditRecord.party_name)).all())

    # Unchanged, they are not tried again: the next run is clean and reads nothing.
    second = run("env")
    assert (second.status, second.set_aside, second.counts.fetched) == (
        IngestRunStatus.SUCCEEDED,
        [],
        0,
    )

    # Fixed, a file is read again (its new hash), and no longer counts as set aside.
    (folder / "b_header.csv").write_text(
        "\n".join([PENALTY_HEADER, penalty_row(CF_XZCFJDSWH="B1")]) + "\n", encoding="utf-8"
    )
    third = run("env")
    assert third.set_aside == [] and numbers(session_factory) == ["A1", "B1", "E1"]


def test_a_catalogue_change_tries_set_aside_files_again(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    """The encoding message says to declare the encoding in the catalogue: doing so retries
    the file, whose bytes did not change."""
    feed = penalty_feed()
    write_penalties(tmp_path / "drop" / "latin.csv", [penalty_row(CF_XDR_MC="Caf\u00e9 Ltd")])
    path = tmp_path / "drop" / "latin.csv"
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xff"))
    first = run("env")
    assert [name for name, _ in first.set_aside] == ["latin.csv"]
    with session_factory() as session:
        session.execute(
            update(Feed)
            .where(Feed.id == feed.id)
            .values(
                adapter_settings={**feed.adapter_settings, "encoding": "latin-1"},
                updated_at=utcnow(),
            )
        )
        session.commit()
    again = run("env")
    # Read this time (as Latin-1, the feed's Chinese columns are mojibake its checks refuse:
    # the point is that the file was tried again, not this declaration).
    assert (again.set_aside, again.counts.fetched) == ([], 1)


def test_set_aside_files_show_on_feeds_the_api_and_the_data_quality_report(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed(format="csv")
    drop_folder(tmp_path)
    (tmp_path / "drop" / "d_broken.json").unlink()
    summary = run("env")
    regulator = make_token(session_factory, Role.REGULATOR)

    listed = client.get("/api/v1/ingest/set-aside", headers=regulator)
    assert listed.status_code == 200
    assert [(i["feed"], i["name"]) for i in listed.json["items"]] == [
        ("env", "b_header.csv"),
        ("env", "c_bytes.csv"),
    ]
    assert all(i["reason"] and i["run_id"] == summary.run_id for i in listed.json["items"])

    runs = client.get("/api/v1/ingest/runs", headers=regulator).json["items"]
    assert [f["name"] for f in runs[0]["set_aside_files"]] == ["b_header.csv", "c_bytes.csv"]

    report = client.get("/api/v1/reports/data-quality?format=json", headers=regulator)
    assert report.status_code == 200, report.get_data(as_text=True)
    row = report.json["rows"][0]
    assert row["set_aside_files"] == 2
    assert "b_header.csv: " in row["set_aside_reasons"]
    assert "names column 'CF_XDR_MC' twice" in row["set_aside_reasons"]

    sign_in(client, regulator["Authorization"].removeprefix("Bearer "))
    page = client.get("/feeds").get_data(as_text=True)
    assert "b_header.csv" in page and "c_bytes.csv" in page and "neither UTF-8" in page

    # Another department sees none of them.
    with session_factory() as session:
        make_department(session, code="TAX")
        session.commit()
    tax = make_token(session_factory, Role.DEPARTMENT, department_code="TAX")
    assert client.get("/api/v1/ingest/set-aside", headers=tax).json["items"] == []


def test_a_broken_json_document_is_set_aside_too(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
) -> None:
    penalty_feed(format="json")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.json").write_text('{"items": [', encoding="utf-8")
    (folder / "b.json").write_text(
        '[{"CF_XDR_MC": "北京星河科技有限公司", "CF_XZCFJDSWH": "J1", "CF_JDRQ": "2026-03-01", '
        '"CF_CFJG": "北京市生态环境局"}]',
        encoding="utf-8",
    )
    summary = run("env")
    assert [name for name, _ in summary.set_aside] == ["a.json"]
    assert numbers(session_factory) == ["J1"]
    with session_factory() as session:
        receipt = session.scalars(select(IngestedFile).where(IngestedFile.name == "a.json")).one()
        assert "a.json" in (receipt.set_aside_reason or "")
