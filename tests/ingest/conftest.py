"""Helpers for ingestion tests: feeds pointed at temporary folders, runs checked for balance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.models import AdapterKind, Feed, IngestRun, RecordCategory
from ingest.runner import RunSummary, run_feed
from tests.support.builders import make_feed

PENALTY_HEADER = "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_XZCFJDSWH,CF_CFLB,CF_NR_FK,CF_JDRQ,CF_CFJG"


# One valid penalty in the double-publicity fields, the base of the tests' rows and records.
PENALTY_VALUES = {
    "CF_XDR_MC": "北京星河科技有限公司",
    "CF_XDR_LB": "法人及非法人组织",
    "CF_XDR_SHXYM": "91110000600037341L",
    "CF_XZCFJDSWH": "京环罚〔2026〕1号",
    "CF_CFLB": "罚款",
    "CF_NR_FK": "1.5",
    "CF_JDRQ": "2026-03-01",
    "CF_CFJG": "北京市生态环境局",
}


def penalty_row(**overrides: str) -> str:
    values = {**PENALTY_VALUES, **overrides}
    return ",".join(values[c] for c in PENALTY_HEADER.split(","))


def write_penalties(path: Path, rows: list[str], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([PENALTY_HEADER, *rows]) + "\n").encode(encoding))


def assert_balanced(run: IngestRun | RunSummary) -> None:
    counts = run.counts.as_dict() if isinstance(run, RunSummary) else run.__dict__
    assert counts["fetched"] == (
        counts["accepted"] + counts["duplicate"] + counts["updated"] + counts["quarantined"]
    ), counts


@pytest.fixture
def penalty_feed(session_factory: sessionmaker[Session], tmp_path: Path) -> Callable[..., Feed]:
    """A committed file-drop penalty feed on the double-publicity preset."""

    def _make(**overrides: Any) -> Feed:
        values: dict[str, Any] = {
            "code": "env",
            "record_category": RecordCategory.PENALTY,
            "adapter": AdapterKind.FILE_DROP,
            "adapter_settings": {"path": str(tmp_path / "drop")},
            "field_mapping": {"preset": "double_publicity_penalty"},
        }
        values.update(overrides)
        with session_factory() as session:
            feed = make_feed(session, **values)
            session.commit()
            return feed

    return _make


@pytest.fixture
def run(session_factory: sessionmaker[Session]) -> Callable[[str], RunSummary]:
    """Run a feed and check, in the database too, that its counts balance."""

    def _run(code: str) -> RunSummary:
        summary = run_feed(session_factory=session_factory, feed_code=code)
        assert_balanced(summary)
        with session_factory() as session:
            stored = session.scalars(select(IngestRun).where(IngestRun.id == summary.run_id)).one()
            assert_balanced(stored)
        return summary

    return _run
