"""A mapping fix followed by ``credithub ingest replay`` recovers quarantined records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import CreditRecord, Feed, SourceRecord, SourceStatus
from ingest.runner import RunSummary

Run = Callable[[str], RunSummary]


def test_replay_after_a_mapping_fix_accepts_and_links(
    session_factory: sessionmaker[Session],
    penalty_feed: Callable[..., Feed],
    run: Run,
    tmp_path: Path,
    runner: FlaskCliRunner,
    app: Flask,
) -> None:
    # The department names its columns its own way; the first mapping misses the name column.
    penalty_feed(
        field_mapping={
            "source_key": "doc",
            "fields": {"party_name": "company", "decision_number": "doc", "authority_name": "by"},
        }
    )
    lines = [
        "企业,doc,decision_date,by,uscc",
        "北京星河科技有限公司,D1,2026-03-01,环境局,91110000600037341L",
        "北京星河科技有限公司,D2,not-a-date,环境局,91110000600037341L",
    ]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a.csv").write_text("\n".join(lines), encoding="utf-8")
    first = run("env")
    assert first.counts.quarantined == 2

    with session_factory() as session:
        feed = session.scalars(select(Feed)).one()
        feed.field_mapping = {
            "source_key": "doc",
            "fields": {"party_name": "企业", "decision_number": "doc", "authority_name": "by"},
        }
        session.commit()

    result = runner.invoke(args=["ingest", "replay", "env"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output

    with session_factory() as session:
        statuses = {r.source_key: r.status for r in session.scalars(select(SourceRecord))}
        assert statuses == {"D1": SourceStatus.ACCEPTED, "D2": SourceStatus.QUARANTINED}
        still_bad = session.scalars(
            select(SourceRecord).where(SourceRecord.source_key == "D2")
        ).one()
        assert set(still_bad.errors or {}) == {"decision_date"}  # errors now reflect the fix
        credit = session.scalars(select(CreditRecord)).one()
        assert credit.entity_id is not None and credit.decision_number == "D1"

    again = runner.invoke(args=["ingest", "replay", "env"])
    assert again.exit_code == 0
    with session_factory() as session:
        assert len(session.scalars(select(CreditRecord)).all()) == 1


def test_replay_of_an_unknown_feed_is_a_clear_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["ingest", "replay", "nope"])
    assert result.exit_code != 0 and "no feed 'nope'" in result.output


def test_cli_runs_a_feed_and_lists_runs(
    penalty_feed: Callable[..., Feed], tmp_path: Path, runner: FlaskCliRunner
) -> None:
    from tests.ingest.conftest import penalty_row, write_penalties

    penalty_feed()
    write_penalties(tmp_path / "drop" / "p.csv", [penalty_row()])
    result = runner.invoke(args=["ingest", "run", "env", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "fetched" in result.output
    runs = runner.invoke(args=["ingest", "runs"])
    assert "env" in runs.output and "succeeded" in runs.output
    missing = runner.invoke(args=["ingest", "run", "nope", "--quiet"])
    assert missing.exit_code == 1 and "no feed 'nope'" in missing.output
