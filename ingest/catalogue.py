"""The feed catalogue file (TOML) and its synchronisation into the database.

The file is the source of truth for what each feed *is* (catalogue fields, adapter, mapping,
schedule); the database keeps what each feed *has done* (its watermark), which a sync never
touches. A feed that disappears from the file is disabled, not deleted: its records stay.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AdapterKind, Department, Feed, RecordCategory, SharingType
from core.rules.authority import MAX_AUTHORITY
from ingest.adapters.environment import has_reference, reference_problems
from ingest.mapping import MappingError, resolve_mapping
from matching.org_codes import validate_uscc


class CatalogueError(ValueError):
    """The catalogue file cannot be read or does not validate; ``errors`` says where."""

    def __init__(self, message: str, errors: Any = None) -> None:
        super().__init__(message if errors is None else f"{message}: {errors}")
        self.errors = errors


class DepartmentSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    uscc = fields.String(load_default=None)

    @validates_schema
    def _uscc_is_valid(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # A department's own code is under our control, unlike codes inside feeds: insist on it.
        if data.get("uscc"):
            checked = validate_uscc(data["uscc"])
            if not checked.valid:
                raise ValidationError(checked.problem or "invalid USCC", "uscc")
            data["uscc"] = checked.value


class AdapterSchema(Schema):
    class Meta:
        unknown = "include"

    kind = fields.Enum(AdapterKind, by_value=True, required=True)

    @validates_schema
    def _references_are_well_formed(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = reference_problems({k: v for k, v in data.items() if k != "kind"})
        if problems:
            raise ValidationError(problems)


class FeedSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    department = fields.String(required=True)
    classification = fields.String(load_default=None)
    summary = fields.String(load_default=None)
    format = fields.String(
        required=True, validate=validate.OneOf(["csv", "xlsx", "jsonl", "json", "table"])
    )
    record_category = fields.Enum(RecordCategory, by_value=True, required=True)
    # Authority over golden-record values (core/rules/authority.py): unset, the category's.
    golden_authority = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(min=0, max=MAX_AUTHORITY)
    )
    data_items = fields.List(fields.String(), load_default=list)
    update_cycle = fields.String(load_default=None)
    sharing_type = fields.Enum(SharingType, by_value=True, required=True)
    sharing_conditions = fields.Dict(load_default=dict)
    sharing_method = fields.String(load_default=None)
    open_data = fields.String(load_default=None)
    release_date = fields.Date(load_default=None)
    schedule = fields.String(load_default=None)
    enabled = fields.Boolean(load_default=True)
    adapter = fields.Nested(AdapterSchema, required=True)
    field_mapping = fields.Dict(load_default=dict)

    @validates_schema
    def _mapping_resolves(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:
            resolve_mapping(data.get("field_mapping") or {})
        except MappingError as exc:
            raise ValidationError(str(exc), "field_mapping") from exc


class CatalogueSchema(Schema):
    class Meta:
        unknown = RAISE

    departments = fields.List(fields.Nested(DepartmentSchema), load_default=list)
    feeds = fields.List(fields.Nested(FeedSchema), load_default=list)

    @validates_schema
    def _references_resolve(self, data: dict[str, Any], **_kwargs: Any) -> None:
        codes = [d["code"] for d in data["departments"]]
        feed_codes = [f["code"] for f in data["feeds"]]
        errors: dict[str, list[str]] = {}
        if len(set(codes)) != len(codes):
            errors.setdefault("departments", []).append("department codes must be unique")
        if len(set(feed_codes)) != len(feed_codes):
            errors.setdefault("feeds", []).append("feed codes must be unique")
        for feed in data["feeds"]:
            if feed["department"] not in codes:
                errors.setdefault("feeds", []).append(
                    f"feed {feed['code']!r} names unknown department {feed['department']!r}"
                )
        if errors:
            raise ValidationError(errors)


@dataclass
class Catalogue:
    """A validated catalogue: plain dicts as loaded by the schema, plus where it came from."""

    departments: list[dict[str, Any]]
    feeds: list[dict[str, Any]]
    base_dir: Path = field(default_factory=Path.cwd)


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def load_catalogue(path: Path) -> Catalogue:
    """Read and validate a catalogue TOML file.

    Raises :class:`CatalogueError` for a missing file, bad TOML, or entries that do not validate
    (the message names the entry and field).
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"catalogue file {path} not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"catalogue file {path} is not valid UTF-8 TOML: {exc}") from exc
    return parse_catalogue(raw, base_dir=path.parent)


def parse_catalogue(raw: dict[str, Any], *, base_dir: Path) -> Catalogue:
    try:
        data = CatalogueSchema().load(raw)
    except ValidationError as exc:
        raise CatalogueError("catalogue does not validate", exc.messages) from exc
    return Catalogue(departments=data["departments"], feeds=data["feeds"], base_dir=base_dir)


_FEED_FIELDS = (
    "name",
    "classification",
    "summary",
    "format",
    "record_category",
    "golden_authority",
    "data_items",
    "update_cycle",
    "sharing_type",
    "sharing_conditions",
    "sharing_method",
    "open_data",
    "release_date",
    "schedule",
    "enabled",
    "field_mapping",
)


def sync_catalogue(*, session: Session, catalogue: Catalogue) -> SyncResult:
    """Create or update departments and feeds to match ``catalogue``; does not commit.

    Relative adapter paths are resolved against the catalogue file's folder so the stored
    settings work from any working directory. Watermarks are never touched.
    """
    result = SyncResult()
    departments = {d.code: d for d in session.scalars(select(Department))}
    for spec in catalogue.departments:
        dept = departments.get(spec["code"])
        if dept is None:
            dept = Department(code=spec["code"], name=spec["name"], uscc=spec["uscc"])
            session.add(dept)
            departments[dept.code] = dept
        else:
            dept.name, dept.uscc = spec["name"], spec["uscc"]
    session.flush()

    feeds = {f.code: f for f in session.scalars(select(Feed))}
    for spec in catalogue.feeds:
        values = {name: spec[name] for name in _FEED_FIELDS}
        values["department_id"] = departments[spec["department"]].id
        adapter = dict(spec["adapter"])
        values["adapter"] = adapter.pop("kind")
        values["adapter_settings"] = _resolve_paths(adapter, catalogue.base_dir)
        feed = feeds.get(spec["code"])
        if feed is None:
            session.add(Feed(code=spec["code"], **values))
            result.created.append(spec["code"])
            continue
        changed = {k: v for k, v in values.items() if getattr(feed, k) != v}
        for key, value in changed.items():
            setattr(feed, key, value)
        (result.updated if changed else result.unchanged).append(spec["code"])

    listed = {spec["code"] for spec in catalogue.feeds}
    for code, feed in feeds.items():
        if code not in listed and feed.enabled:
            feed.enabled = False
            result.disabled.append(code)
    session.flush()
    return result


def _resolve_paths(settings: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    resolved = dict(settings)
    for key in ("path", "sqlite_path"):
        value = resolved.get(key)
        # A path from the environment is the environment's to get right: it is only known
        # when a run expands it, so it cannot be made relative to this file.
        if isinstance(value, str) and not has_reference(value) and not Path(value).is_absolute():
            resolved[key] = str((base_dir / value).resolve())
    return resolved
