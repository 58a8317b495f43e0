"""``credithub check FILE --matter M --out FILE``: a batch check from the command line, with
the view it acts as, its progress bar, its audit trail and its refusals."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli.main import register_commands
from core.config import Config
from core.models import AuditEvent, CreditCheck
from tests.support.credit import ID_ZHANG, USCC_XINGHE
from tests.support.credit_checks import SAMPLE_MEASURES, World, build_world


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build_world(session_factory)


@pytest.fixture
def cli(config: Config, make_app: Callable[[Config], Flask]) -> FlaskCliRunner:
    app = make_app(dataclasses.replace(config, today="2026-06-01", measures_file=SAMPLE_MEASURES))
    register_commands(app)
    return app.test_cli_runner()


def bidders(tmp_path: Path) -> Path:
    source = tmp_path / "bidders.csv"
    source.write_text(f"identifier\n{ID_ZHANG}\n{USCC_XINGHE}\n星河科技\n", encoding="utf-8")
    return source


def test_check_writes_one_result_per_row_as_the_role_asked(
    cli: FlaskCliRunner, world: World, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    out = tmp_path / "results.csv"
    result = cli.invoke(
        args=[
            "check", str(bidders(tmp_path)), "--matter", "bidding", "--out", str(out),
            "--as-role", "department", "--department", "HRSS", "--actor", "cli:tester",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Checking" in result.output and "3 rows checked" in result.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["outcome"] for r in rows] == ["matched", "matched", "ambiguous"]
    assert rows[0]["identifier"] != ID_ZHANG, "a department's view is masked"
    assert rows[0]["punishments"] == "dishonest_debtor_procurement"
    # HRSS sees its own not-shared wage-arrears list.
    assert rows[1]["punishments"] == "wage_arrears_bidding"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CreditCheck)) == 3
        actors = set(
            session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "credit_check.create")
            )
        )
        assert actors == {"cli:tester"}


def test_check_refusals_leave_no_file(cli: FlaskCliRunner, world: World, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    source = bidders(tmp_path)
    base = ["check", str(source), "--out", str(out)]
    unknown = cli.invoke(args=[*base, "--matter", "parking", "--as-role", "regulator"])
    assert unknown.exit_code != 0 and "Unknown matter" in unknown.output
    no_department = cli.invoke(args=[*base, "--matter", "bidding", "--as-role", "department"])
    assert no_department.exit_code != 0 and "--department" in no_department.output
    headerless = tmp_path / "plain.csv"
    headerless.write_text(f"{ID_ZHANG}\n", encoding="utf-8")
    bad = cli.invoke(
        args=["check", str(headerless), "--out", str(out), "--matter", "bidding",
              "--as-role", "regulator"]
    )  # fmt: skip
    assert bad.exit_code != 0 and "identifier" in bad.output
    assert not out.exists()
    assert list(tmp_path.glob(".results.csv.*")) == []
