"""``credithub report``: files in every format, the principal it acts as, audit and errors."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.main import register_commands
from core.config import Config
from core.models import AuditEvent
from tests.support.credit import ID_ZHANG
from tests.support.reports import TODAY, World, build_world


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def cli(config: Config, make_app: Callable[[Config], Flask]) -> FlaskCliRunner:
    app = make_app(dataclasses.replace(config, today=TODAY))
    register_commands(app)
    return app.test_cli_runner()


def exports(session_factory: sessionmaker[Session]) -> list[AuditEvent]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "report.export")
                .order_by(AuditEvent.id)
            )
        )


def test_exports_a_file_as_the_named_role_and_audits_it(
    cli: FlaskCliRunner, world: World, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    out = tmp_path / "records.csv"
    result = cli.invoke(
        args=[
            "report",
            "records",
            "--category",
            "list_entry",
            "--as-role",
            "analyst",
            "--actor",
            "cli:wang",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert sorted(table["entity_name"]) == ["张*", "李*"]
    assert ID_ZHANG not in out.read_text(encoding="utf-8-sig")
    [event] = exports(session_factory)
    assert (event.actor, event.role, event.client_id, event.target_id) == (
        "cli:wang",
        "analyst",
        None,
        "records",
    )
    assert event.details["filters"] == {"category": "list_entry"}


@pytest.mark.parametrize("suffix", ["xlsx", "parquet", "json"])
def test_format_follows_the_file_suffix(
    cli: FlaskCliRunner, world: World, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"penalties.{suffix}"
    result = cli.invoke(args=["report", "penalties", "--as-role", "regulator", "--out", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == "xlsx":
        table = pd.read_excel(out, sheet_name="penalties", dtype=str)
    elif suffix == "parquet":
        table = pd.read_parquet(out)
    else:
        table = pd.DataFrame(json.loads(out.read_text(encoding="utf-8"))["rows"])
    assert list(table["month"]) == ["2025-12", "2026-03", "2026-04"]


def test_regulator_sees_full_ids_and_stdout_works(cli: FlaskCliRunner, world: World) -> None:
    result = cli.invoke(
        args=["report", "list-members", "--as-role", "regulator", "--format", "csv", "--out", "-"]
    )
    assert result.exit_code == 0, result.output
    assert ID_ZHANG in result.output and "张三" in result.output


def test_chart_to_a_png_file(cli: FlaskCliRunner, world: World, tmp_path: Path) -> None:
    out = tmp_path / "trend.png"
    result = cli.invoke(args=["report", "resolution", "--as-role", "analyst", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_list(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["report", "--list"])
    assert result.exit_code == 0
    assert "data-quality" in result.output and "数据质量" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No report is called 'nope'"),
        (["records", "--from", "2026-02-30"], "from"),
        (["data-quality", "--severity", "serious"], "severity: report 'data-quality' does not"),
        (["records", "--format", "png"], "has no chart"),
        (["records", "--department", "NOPE"], "no department has the code 'NOPE'"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_lost(
    cli: FlaskCliRunner,
    world: World,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    args: list[str],
    message: str,
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "keep.csv"
    out.write_text("precious")
    result = cli.invoke(args=["report", *args, "--as-role", "analyst", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert out.read_text() == "precious"
    assert list(folder.iterdir()) == [out]
    assert exports(session_factory) == []


def test_role_and_out_are_required(cli: FlaskCliRunner, world: World, tmp_path: Path) -> None:
    missing_role = cli.invoke(args=["report", "records", "--out", str(tmp_path / "x.csv")])
    assert missing_role.exit_code == 2 and "--as-role" in missing_role.output
    missing_out = cli.invoke(args=["report", "records", "--as-role", "analyst"])
    assert missing_out.exit_code == 2 and "--out" in missing_out.output
    department = cli.invoke(
        args=["report", "records", "--as-role", "department", "--out", str(tmp_path / "x.csv")]
    )
    assert department.exit_code == 2
    assert not (tmp_path / "x.csv").exists()
