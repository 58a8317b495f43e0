from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AdapterKind, Department, Feed, SharingType
from core.rules.authority import feed_authority
from ingest.catalogue import CatalogueError, load_catalogue, parse_catalogue, sync_catalogue

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "catalogue.toml"


def make_catalogue_dict(**overrides: object) -> dict[str, object]:
    feed = {
        "code": "env-penalties",
        "name": "环境行政处罚",
        "department": "EPB",
        "format": "csv",
        "record_category": "penalty",
        "sharing_type": "unconditional",
        "adapter": {"kind": "file_drop", "path": "drops/env"},
    }
    feed.update(overrides.pop("feed", {}))  # type: ignore[arg-type]
    data: dict[str, object] = {
        "departments": [{"code": "EPB", "name": "生态环境局", "uscc": "11110000400005724E"}],
        "feeds": [feed],
    }
    data.update(overrides)
    return data


def test_sample_catalogue_loads_and_syncs(session: Session) -> None:
    catalogue = load_catalogue(SAMPLE)
    result = sync_catalogue(session=session, catalogue=catalogue)
    session.commit()
    assert len(result.created) >= 5
    feeds = {f.code: f for f in session.scalars(select(Feed))}
    assert feeds["env-penalties"].adapter is AdapterKind.FILE_DROP
    assert feeds["env-penalties"].adapter_settings["encoding"] == "gbk"
    # relative paths are stored resolved against the catalogue's folder
    assert Path(feeds["env-penalties"].adapter_settings["path"]).is_absolute()
    assert feeds["tax-credit-grades"].sharing_type is SharingType.CONDITIONAL
    assert feeds["tax-credit-grades"].sharing_conditions["departments"] == ["BJ-SAMR", "BJ-CUSTOMS"]


def test_sync_is_idempotent_and_keeps_watermarks(session: Session) -> None:
    catalogue = parse_catalogue(make_catalogue_dict(), base_dir=Path("/srv"))
    sync_catalogue(session=session, catalogue=catalogue)
    feed = session.scalars(select(Feed)).one()
    feed.watermark = "2026-05-01T00:00:00Z"
    again = sync_catalogue(session=session, catalogue=catalogue)
    assert again.unchanged == ["env-penalties"] and again.created == []
    assert feed.watermark == "2026-05-01T00:00:00Z"

    changed = parse_catalogue(
        make_catalogue_dict(feed={"name": "环境行政处罚（新）"}), base_dir=Path("/srv")
    )
    result = sync_catalogue(session=session, catalogue=changed)
    assert result.updated == ["env-penalties"]
    assert feed.name == "环境行政处罚（新）" and feed.watermark == "2026-05-01T00:00:00Z"


def test_feed_dropped_from_the_file_is_disabled_not_deleted(session: Session) -> None:
    sync_catalogue(
        session=session, catalogue=parse_catalogue(make_catalogue_dict(), base_dir=Path("."))
    )
    empty = parse_catalogue(
        {"departments": [{"code": "EPB", "name": "生态环境局"}], "feeds": []}, base_dir=Path(".")
    )
    result = sync_catalogue(session=session, catalogue=empty)
    assert result.disabled == ["env-penalties"]
    assert session.scalars(select(Feed.enabled)).one() is False
    assert session.scalars(select(Department.code)).one() == "EPB"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"feed": {"department": "NOPE"}}, "unknown department"),
        ({"feed": {"sharing_type": "whenever"}}, "sharing_type"),
        ({"feed": {"record_category": "gossip"}}, "record_category"),
        ({"feed": {"adapter": {"kind": "carrier-pigeon"}}}, "kind"),
        ({"feed": {"code": "Bad Code!"}}, "code"),
        ({"feed": {"golden_authority": 101}}, "golden_authority"),
        ({"feed": {"golden_authority": "high"}}, "golden_authority"),
        ({"feed": {"surprise": 1}}, "surprise"),
        ({"departments": [{"code": "EPB", "name": "x", "uscc": "91110000600037341K"}]}, "uscc"),
        (
            {"feed": {"adapter": {"kind": "http_pull", "url": "http://h:${PORT/api"}}},
            "url: malformed environment reference",
        ),
    ],
)
def test_bad_catalogue_entries_are_refused_with_the_field_named(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(make_catalogue_dict(**overrides), base_dir=Path("."))


def test_environment_references_are_stored_as_written(session: Session) -> None:
    """Expanded only when a run starts: no secret reaches the database, and a path from the
    environment is not made relative to the catalogue's folder."""
    adapter = {"kind": "file_drop", "path": "${DROPS}/env", "headers": {"X": "${TOKEN:-none}"}}
    catalogue = parse_catalogue(make_catalogue_dict(feed={"adapter": adapter}), base_dir=Path("/c"))
    sync_catalogue(session=session, catalogue=catalogue)
    stored = session.scalars(select(Feed.adapter_settings)).one()
    assert stored == {"path": "${DROPS}/env", "headers": {"X": "${TOKEN:-none}"}}


def test_unreadable_catalogue_files_get_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[feeds]\ncode = ", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid UTF-8 TOML"):
        load_catalogue(broken)
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('name = "环境"'.encode("gbk"))
    with pytest.raises(CatalogueError, match="not valid UTF-8 TOML"):
        load_catalogue(gbk)


def test_cli_syncs_the_sample_catalogue(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["catalogue", "sync", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "feeds created 6" in result.output
    again = runner.invoke(args=["catalogue", "sync", str(SAMPLE)])
    assert "unchanged 6" in again.output


def test_cli_reports_a_bad_catalogue_without_a_traceback(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[feeds]]\ncode = "x"\n', encoding="utf-8")
    result = runner.invoke(args=["catalogue", "sync", str(bad)])
    assert result.exit_code != 0
    assert "does not validate" in result.output


def test_a_feeds_golden_authority_is_synced_and_defaults_to_its_category(
    session: Session,
) -> None:
    """Authority over golden values is catalogue configuration (core/rules/authority.py)."""
    catalogue = parse_catalogue(
        make_catalogue_dict(feed={"golden_authority": 95}), base_dir=Path(".")
    )
    sync_catalogue(session=session, catalogue=catalogue)
    feed = session.scalars(select(Feed).where(Feed.code == "env-penalties")).one()
    assert feed.golden_authority == 95
    sync_catalogue(
        session=session, catalogue=parse_catalogue(make_catalogue_dict(), base_dir=Path("."))
    )
    assert feed.golden_authority is None
    assert feed_authority(feed.record_category, feed.golden_authority) == 30
