"""What every report's rows share: the :class:`ReportContext` they take, chunking, the SQL
clauses of the common filters, and the merge groups behind the entity cells (survivors,
their details and best codes, masked for the caller). Never commits, never writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from app.entities.existence import known_clause
from app.entities.present import Viewer
from app.entities.queries import list_member_clause, visible_clause
from app.reports.filters import ReportFilters
from app.reports.masking import Masker, best_code
from core.models import CreditRecord, Entity, EntityIdentifier, Feed, RecordCategory
from core.rules.settings import GradeRules
from resolution.survivors import survivor_map

Row = tuple[Any, ...]
Chunk = list[Row]
# The list entries of the black and red lists (both list reports); a customs rating can make
# a red-list member too, but is a rating, not an entry.
LIST_CATEGORIES = (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST)


@dataclass
class ReportContext:
    session: Session
    viewer: Viewer
    filters: ReportFilters
    grade_rules: GradeRules
    chunk_size: int = 5000
    department_id: int | None = None
    # Text formats (CSV, JSON) take dates and money as text: the bulk reader then skips the
    # database driver's type conversions and hands over ISO dates and "1234.50" as they are.
    text_values: bool = False
    masker: Masker = field(init=False)

    def __post_init__(self) -> None:
        self.masker = Masker(self.viewer)

    @property
    def today(self) -> date:
        return self.viewer.today

    @property
    def sees_every_feed(self) -> bool:
        every = set(self.session.scalars(select(Feed.id)))
        return every <= self.viewer.feed_ids

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name


def chunked(rows: Iterable[Row], size: int) -> Iterator[Chunk]:
    """Lists of at most ``size`` rows; never an empty one."""
    chunk: Chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def month_of(column: Any, dialect: str, *, timestamp: bool = False) -> Any:
    """``YYYY-MM`` of a date (or, with ``timestamp``, a UTC timestamp) column, in SQL."""
    if dialect == "postgresql":
        value = func.timezone("UTC", column) if timestamp else column
        return func.to_char(value, "YYYY-MM")
    return func.strftime("%Y-%m", column)


# --------------------------------------------------------------------------- filter clauses


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def time_clauses(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    """``from``/``to`` on a UTC timestamp column: whole days, ``to`` included."""
    clauses: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        clauses.append(column >= _day_start(filters.date_from))
    if filters.date_to is not None:
        clauses.append(column < _day_start(filters.date_to + timedelta(days=1)))
    return clauses


def date_clauses(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        clauses.append(column >= filters.date_from)
    if filters.date_to is not None:
        clauses.append(column <= filters.date_to)
    return clauses


def record_clauses(ctx: ReportContext, *, scan: bool = False) -> list[ColumnElement[bool]]:
    """Visibility and the record filters (dates, department, category, severity).

    With ``scan`` (a bulk read in id order), visibility is written so that SQLite keeps to
    its scan of the table in id order: given ``feed_id IN (...)`` it would take the feed index
    and then sort every row before returning the first. A caller who sees every feed gets
    no visibility clause at all.
    """
    f = ctx.filters
    clauses = date_clauses(CreditRecord.decision_date, f)
    if not scan:
        clauses.append(visible_clause(ctx.viewer.feed_ids))
    elif not ctx.sees_every_feed:
        visible = sorted(ctx.viewer.feed_ids)
        clauses.append((CreditRecord.feed_id + 0).in_(visible) if visible else false())
    if ctx.department_id is not None:
        clauses.append(CreditRecord.department_id == ctx.department_id)
    if f.category is not None:
        clauses.append(CreditRecord.category == f.category)
    if f.severity is not None:
        clauses.append(CreditRecord.severity == f.severity)
    return clauses


def region_clause(ctx: ReportContext) -> ColumnElement[bool] | None:
    if not ctx.filters.region:
        return None
    return Entity.region_code.startswith(ctx.filters.region, autoescape=True)


def list_entities(ctx: ReportContext) -> Any:
    """Ids of entities on the ``list_type`` list today, through the caller's feeds."""
    assert ctx.filters.list_type is not None
    clause = list_member_clause(
        ctx.filters.list_type, today=ctx.today, feed_ids=ctx.viewer.feed_ids
    )
    return select(Entity.id).where(clause).scalar_subquery()


# --------------------------------------------------------------------------- merge groups


@dataclass
class EntityGroups:
    """The merge groups (each merged entity's survivor, each survivor's members), read once
    per report, and the details and best codes of one chunk's entities (survivors of merges)."""

    survivors: dict[int, int]
    members: dict[int, list[int]]

    @classmethod
    def load(cls, session: Session) -> EntityGroups:
        survivors = survivor_map(session)
        members: dict[int, list[int]] = defaultdict(list)
        for merged, survivor in survivors.items():
            members[survivor].append(merged)
        return cls(survivors, dict(members))

    def survivor(self, entity_id: int) -> int:
        return self.survivors.get(entity_id, entity_id)

    def group(self, entity_id: int) -> list[int]:
        return [entity_id, *self.members.get(entity_id, ())]

    def details(self, session: Session, ids: Iterable[int]) -> dict[int, Row]:
        """id -> (public_id, display_name, kind, region_code)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = session.execute(
            select(
                Entity.id, Entity.public_id, Entity.display_name, Entity.kind, Entity.region_code
            ).where(Entity.id.in_(wanted))
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    def codes(self, session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """survivor id -> (id_type, value) naming it best, over its whole merge group."""
        group_of = {m: s for s in set(ids) for m in self.group(s)}
        if not group_of:
            return {}
        found: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
        rows = session.execute(
            select(
                EntityIdentifier.entity_id,
                EntityIdentifier.id_type,
                EntityIdentifier.value,
                EntityIdentifier.valid,
            ).where(EntityIdentifier.entity_id.in_(sorted(group_of)))
        )
        for entity_id, id_type, value, valid in rows:
            found[group_of[entity_id]].append((id_type.value, value, bool(valid)))
        codes = {}
        for survivor, triples in found.items():
            best = best_code(triples)
            if best is not None:
                codes[survivor] = best
        return codes


def entity_cells(
    ctx: ReportContext, details: Row | None, code: tuple[str, str] | None, fallback_name: str
) -> Row:
    """(entity_id, entity_name, entity_code, entity_kind, region_code), masked."""
    if details is None:
        return (None, ctx.masker.name(fallback_name, None), None, None, None)
    public_id, name, kind, region = details
    shown_code = ctx.masker.code(code[0], code[1], kind) if code else None
    return (public_id, ctx.masker.name(name, kind), shown_code, kind.value, region)


def survivor_pages(ctx: ReportContext, *clauses: ColumnElement[bool]) -> Iterator[list[Row]]:
    """Pages of (id, public_id, display_name, kind, region_code) of unmerged entities in id
    order (keyset pagination: no cursor stays open while each page is worked on), known to the
    viewer (``app.entities.existence``: none known only through feeds it may not see)."""
    last: int = 0
    region = region_clause(ctx)
    known = known_clause(ctx.session, ctx.viewer.feed_ids)
    extra = [c for c in (*clauses, region, known) if c is not None]
    while True:
        page: list[Row] = [
            tuple(row)
            for row in ctx.session.execute(
                select(
                    Entity.id,
                    Entity.public_id,
                    Entity.display_name,
                    Entity.kind,
                    Entity.region_code,
                )
                .where(Entity.merged_into_id.is_(None), Entity.id > last, *extra)
                .order_by(Entity.id)
                .limit(ctx.chunk_size)
            )
        ]
        if not page:
            return
        yield page
        last = page[-1][0]


def visible_records(
    ctx: ReportContext, entities: EntityGroups, ids: list[int], *clauses: ColumnElement[bool]
) -> dict[int, list[CreditRecord]]:
    """survivor id -> its visible records (whole merge group)."""
    group_of = {m: s for s in ids for m in entities.group(s)}
    found: dict[int, list[CreditRecord]] = defaultdict(list)
    records = ctx.session.scalars(
        select(CreditRecord).where(
            CreditRecord.entity_id.in_(sorted(group_of)),
            visible_clause(ctx.viewer.feed_ids),
            *clauses,
        )
    )
    for record in records:
        assert record.entity_id is not None
        found[group_of[record.entity_id]].append(record)
    return found
