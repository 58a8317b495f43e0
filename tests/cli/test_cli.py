from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.testing import FlaskCliRunner

from core.migrate import head_revision


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
    return found


def test_every_command_has_help(app: Flask, runner: FlaskCliRunner) -> None:
    commands = _all_commands(app.cli)
    assert ("db", "upgrade") in commands and ("catalogue", "sync") in commands
    for path in commands:
        result = runner.invoke(args=[*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_db_status_reports_head(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert f"revision: {head_revision()}" in result.output


def test_console_script_creates_the_sqlite_database_from_scratch(tmp_path: Path) -> None:
    """The installed ``credithub`` entry point, as a user runs it, on an empty instance folder."""
    env = {**os.environ, "CREDITHUB_INSTANCE_PATH": str(tmp_path / "inst")}
    env.pop("CREDITHUB_DATABASE_URL", None)
    script = Path(sys.executable).parent / "credithub"
    upgrade = subprocess.run(
        [str(script), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "inst" / "credithub.sqlite3").exists()
    status = subprocess.run(
        [str(script), "db", "status"], env=env, capture_output=True, text=True, check=False
    )
    assert status.returncode == 0, status.stderr
    assert "up_to_date: True" in status.stdout


def test_db_status_fails_when_schema_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "CREDITHUB_INSTANCE_PATH": str(tmp_path / "empty")}
    env.pop("CREDITHUB_DATABASE_URL", None)
    script = Path(sys.executable).parent / "credithub"
    status = subprocess.run(
        [str(script), "db", "status"], env=env, capture_output=True, text=True, check=False
    )
    assert status.returncode == 1
    assert "up_to_date: False" in status.stdout
