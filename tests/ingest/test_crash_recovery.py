"""Killing an ingest run mid-way and running again ends where an uninterrupted run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from core.models import (
    CreditRecord,
    Entity,
    Feed,
    IngestedFile,
    IngestRun,
    IngestRunStatus,
    SourceRecord,
    SourceStatus,
)
from ingest.runner import INTERRUPTED
from matching.org_codes import org_code_check_char
from tests.ingest.conftest import PENALTY_HEADER, penalty_row

ROWS = 12_000
ENTITIES = 1_200


def valid_uscc(n: int) -> str:
    body = f"{n:08d}"
    base = f"91110000{body}{org_code_check_char(body)}"
    return base + uscc.calc_check_digit(base)


def write_big_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [PENALTY_HEADER]
    for i in range(ROWS):
        entity = i % ENTITIES
        lines.append(
            penalty_row(
                CF_XDR_MC=f"测试{entity}科技有限公司",
                CF_XDR_SHXYM=valid_uscc(entity + 1),
                CF_XZCFJDSWH=f"京环罚〔2026〕{i}号",
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_kill_mid_run_then_rerun_ends_in_the_uninterrupted_state(
    database_url: str,
    engine: Engine,
    tmp_path: Path,
    penalty_feed: Callable[..., Feed],
    session_factory: sessionmaker[Session],
) -> None:
    penalty_feed(adapter_settings={"path": str(tmp_path / "drop"), "chunk_size": 100})
    write_big_file(tmp_path / "drop" / "big.csv")
    env = {
        **os.environ,
        "CREDITHUB_DATABASE_URL": database_url,
        "CREDITHUB_INSTANCE_PATH": str(tmp_path / "inst"),
    }
    command = [str(Path(sys.executable).parent / "credithub"), "ingest", "run", "env", "--quiet"]

    victim = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while count(engine, "source_records") < 500 and time.monotonic() < deadline:
        assert victim.poll() is None, "the run ended before it could be killed"
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    stored_at_kill = count(engine, "source_records")
    assert 0 < stored_at_kill < ROWS, "the kill did not land mid-run"
    assert count(engine, "ingested_files") == 0

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr

    with session_factory() as session:
        statuses = dict(
            session.execute(
                select(SourceRecord.status, func.count()).group_by(SourceRecord.status)
            ).all()
        )
        assert statuses == {SourceStatus.ACCEPTED: ROWS}
        keys = session.scalar(select(func.count(func.distinct(SourceRecord.source_key))))
        assert keys == ROWS
        assert session.scalar(select(func.max(SourceRecord.version))) == 1
        assert session.scalar(select(func.count()).select_from(CreditRecord)) == ROWS
        assert session.scalar(select(func.count()).select_from(Entity)) == ENTITIES
        assert session.scalar(select(func.count()).select_from(IngestedFile)) == 1
        linked = session.scalar(
            select(func.count())
            .select_from(CreditRecord)
            .where(CreditRecord.entity_id.is_not(None))
        )
        assert linked == ROWS
        runs = session.execute(select(IngestRun.status, IngestRun.error).order_by(IngestRun.id))
        assert runs.all() == [
            (IngestRunStatus.FAILED, INTERRUPTED),
            (IngestRunStatus.SUCCEEDED, None),
        ]
