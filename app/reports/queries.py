"""The rows of each report, produced chunk by chunk. Never commits, never writes.

Every function takes a :class:`ReportContext` and yields lists of at most ``chunk_size`` row
tuples in the order of the report's columns. Row-level reports (records, entities, list
members) read only the feeds the caller may see (``app.sharing``) and mask personal data for
the caller's role (``app.reports.masking``); big ones page through the database (streamed
cursor or keyset pages), so memory holds one chunk, not the report.

Visibility of aggregates: the penalty and list statistics count the caller's visible records
too. The data-quality and resolution reports describe feeds and the matcher (volumes, rates,
dates), not any party, and cover every feed.

Region is the entity's ``region_code``: the 6-digit administrative division the linker took
from the USCC (characters 3-8) or the resident id (first 6). A ``region`` filter is a prefix
(``11`` Beijing, ``1101`` its districts, ``110105`` Chaoyang).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, false, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from app.entities.present import Viewer, title_of
from app.entities.queries import in_force_clause, list_member_clause, visible_clause
from app.reports.filters import ReportFilters
from app.reports.masking import CODE_PREFERENCE, ELEVEN_DIGITS, Masker, best_code
from app.reports.registry import CATEGORY_COUNT_COLUMNS
from core.models import (
    AuditEvent,
    CreditRecord,
    CreditStatus,
    DecidedBy,
    Department,
    Entity,
    EntityIdentifier,
    EntityKind,
    EntityReview,
    Feed,
    IngestRun,
    IngestRunStatus,
    MatchDecision,
    MatchLink,
    RecordCategory,
    ReviewStatus,
    Severity,
    SourceRecord,
    SourceStatus,
)
from core.rules.grading import grade_entity, in_force, list_members, membership_name
from core.rules.publicity import publicity_ended
from core.rules.settings import GradeRules
from core.rules.sharing import mask_personal_text
from resolution.survivors import survivor_map

Row = tuple[Any, ...]
_CENT = Decimal("0.01")
Chunk = list[Row]
_LIST_CATEGORIES = (RecordCategory.LIST_ENTRY, RecordCategory.RED_LIST)
_LIST_KIND = {RecordCategory.LIST_ENTRY: "black", RecordCategory.RED_LIST: "red"}


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


# --------------------------------------------------------------------------- helpers


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


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _time_clauses(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    """``from``/``to`` on a UTC timestamp column: whole days, ``to`` included."""
    clauses: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        clauses.append(column >= _day_start(filters.date_from))
    if filters.date_to is not None:
        clauses.append(column < _day_start(filters.date_to + timedelta(days=1)))
    return clauses


def _date_clauses(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        clauses.append(column >= filters.date_from)
    if filters.date_to is not None:
        clauses.append(column <= filters.date_to)
    return clauses


def _record_clauses(ctx: ReportContext, *, scan: bool = False) -> list[ColumnElement[bool]]:
    """Visibility and the record filters (dates, department, category, severity).

    With ``scan`` (a bulk read in id order), visibility is written so that SQLite keeps to
    its scan of the table in id order: given ``feed_id IN (...)`` it would take the feed index
    and then sort every row before returning the first. A caller who sees every feed gets
    no visibility clause at all.
    """
    f = ctx.filters
    clauses = _date_clauses(CreditRecord.decision_date, f)
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


def _region_clause(ctx: ReportContext) -> ColumnElement[bool] | None:
    if not ctx.filters.region:
        return None
    return Entity.region_code.startswith(ctx.filters.region, autoescape=True)


def _list_entities(ctx: ReportContext) -> Any:
    """Ids of entities on the ``list_type`` list today, through the caller's feeds."""
    assert ctx.filters.list_type is not None
    clause = list_member_clause(
        ctx.filters.list_type, today=ctx.today, feed_ids=ctx.viewer.feed_ids
    )
    return select(Entity.id).where(clause).scalar_subquery()


@dataclass
class _Entities:
    """Entity details and codes for the entities of one chunk (survivors of merges)."""

    survivors: dict[int, int]
    members: dict[int, list[int]]

    @classmethod
    def load(cls, session: Session) -> _Entities:
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


def _entity_cells(
    ctx: ReportContext, details: Row | None, code: tuple[str, str] | None, fallback_name: str
) -> Row:
    """(entity_id, entity_name, entity_code, entity_kind, region_code), masked."""
    if details is None:
        return (None, ctx.masker.name(fallback_name, None), None, None, None)
    public_id, name, kind, region = details
    shown_code = ctx.masker.code(code[0], code[1], kind) if code else None
    return (public_id, ctx.masker.name(name, kind), shown_code, kind.value, region)


# --------------------------------------------------------------------------- records


def _as_text(column: Any) -> Any:
    # Enum columns read as their stored text: the bulk loop writes text anyway, and skipping
    # the enum round trip is a fifth of its time.
    return type_coerce(column, String)


def best_code_clause(entity_id: Any) -> Any:
    """``id_type:value`` of the identifier that names the entity best (the SQL twin of
    :func:`app.reports.masking.best_code`, over the entity's own identifiers)."""
    rank = case(
        *((EntityIdentifier.id_type == kind, i) for i, kind in enumerate(CODE_PREFERENCE)),
        else_=len(CODE_PREFERENCE),
    )
    return (
        select(_as_text(EntityIdentifier.id_type) + ":" + EntityIdentifier.value)
        .where(
            EntityIdentifier.entity_id == entity_id,
            _as_text(EntityIdentifier.id_type).in_(CODE_PREFERENCE),
        )
        .order_by(EntityIdentifier.valid.desc(), rank, EntityIdentifier.value)
        .limit(1)
        .scalar_subquery()
    )


def records_statement(ctx: ReportContext) -> Any:
    """The SELECT behind the records report (the export benchmark's baseline reads it too)."""
    statement = (
        select(
            CreditRecord.id,
            CreditRecord.entity_id,
            Entity.public_id,
            Entity.display_name,
            _as_text(Entity.kind),
            Entity.region_code,
            Entity.merged_into_id,
            best_code_clause(Entity.id),
            Department.code,
            Department.name,
            Feed.code,
            _as_text(CreditRecord.category),
            CreditRecord.subtype,
            _as_text(CreditRecord.severity),
            _as_text(CreditRecord.status),
            CreditRecord.decision_number,
            CreditRecord.title,
            CreditRecord.list_name,
            CreditRecord.grade,
            CreditRecord.decision_date,
            CreditRecord.publicity_end,
            CreditRecord.fine_amount,
            CreditRecord.authority_name,
            CreditRecord.party_name,
        )
        .join(Department, CreditRecord.department_id == Department.id)
        .join(Feed, CreditRecord.feed_id == Feed.id)
        .outerjoin(Entity, CreditRecord.entity_id == Entity.id)
        .where(*_record_clauses(ctx, scan=True))
        .order_by(CreditRecord.id)
    )
    region = _region_clause(ctx)
    if region is not None:
        statement = statement.where(region)
    if ctx.filters.list_type:
        statement = statement.where(CreditRecord.entity_id.in_(_list_entities(ctx)))
    return statement


def records_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Credit records, by id, through one streamed query.

    The hot loop of bulk exports: rows are read by position, enums stay text, an entity's
    code comes from SQL (from Python only for the few entities in a merge), and the entity
    cells of a company (public data) skip the masker."""
    statement = records_statement(ctx)
    entities = _Entities.load(ctx.session)
    in_merges = set(entities.survivors) | set(entities.members)
    connection = ctx.session.connection().execution_options(yield_per=ctx.chunk_size)
    text = ctx.text_values
    if text:
        # Without result types: SQLite hands back its stored text (ISO dates) and numbers as
        # they are, which is what a text file holds anyway, and no value is converted per cell.
        # The filters stay bound parameters.
        untyped = [type_coerce(column, NullType()) for column in statement.selected_columns]
        result = connection.execute(statement.with_only_columns(*untyped))
    else:
        result = connection.execute(statement)
    today: date | str = ctx.today.isoformat() if text else ctx.today
    masker = ctx.masker
    full = masker.full
    person_kind = EntityKind.NATURAL_PERSON
    person = person_kind.value
    has_long_digits = ELEVEN_DIGITS.search
    active = CreditStatus.ACTIVE.value
    expired = CreditStatus.EXPIRED.value
    for partition in result.partitions(ctx.chunk_size):
        merged = {r[1]: entities.survivor(r[1]) for r in partition if r[6] is not None}
        survivor_details = entities.details(ctx.session, merged.values())
        group_codes = entities.codes(
            ctx.session,
            {merged.get(r[1], r[1]) for r in partition if r[1] is not None and r[1] in in_merges},
        )
        chunk: Chunk = []
        append = chunk.append
        cells: Row
        for r in partition:
            (
                record_id,
                entity_id,
                public_id,
                name,
                kind,
                region,
                merged_into,
                own_code,
                department_code,
                department_name,
                feed_code,
                category,
                subtype,
                severity,
                status,
                decision_number,
                title,
                list_name,
                grade,
                decided,
                publicity_end,
                fine,
                authority,
                party_name,
            ) = r
            if entity_id is None:
                cells = (None, masker.name(party_name, None), None, None, None)
            else:
                if entity_id in in_merges:
                    if merged_into is not None:
                        entity_id = merged[entity_id]
                        public_id, name, kind_enum, region = survivor_details[entity_id]
                        kind = kind_enum.value
                    code = group_codes.get(entity_id)
                else:
                    code = tuple(own_code.split(":", 1)) if own_code else None
                if code is None:
                    shown = None
                elif full or (kind != person and code[0] != "resident_id"):
                    shown = code[1]
                else:
                    shown = masker.code(code[0], code[1], EntityKind(kind))
                if kind == person and not full:
                    cells = (public_id, masker.name(name, person_kind), shown, kind, region)
                else:
                    cells = (public_id, name, shown, kind, region)
            if text:
                decided = _iso(decided)
                publicity_end = _iso(publicity_end)
                fine = _money_text(fine)
            # app.publicity.effective_status, on the row's text status.
            if status == active and publicity_ended(publicity_end, today):
                status = expired
            title = title_of(title, list_name, grade, decision_number)
            if not full and title is not None:
                if kind == person:
                    title = masker.text(title, person_kind, (party_name, name))
                elif has_long_digits(title):
                    title = masker.text(title, None)
            append(
                (
                    record_id,
                    *cells,
                    department_code,
                    department_name,
                    feed_code,
                    category,
                    subtype,
                    severity,
                    status,
                    decision_number,
                    title,
                    decided,
                    publicity_end,
                    fine,
                    list_name,
                    grade,
                    authority,
                )
            )
        yield chunk


def _iso(value: Any) -> str | None:
    # SQLite stores dates as ISO text; PostgreSQL's driver returns dates.
    if value is None or value.__class__ is str:
        return value  # type: ignore[no-any-return]
    return str(value.isoformat())


def _money_text(value: Any) -> str | None:
    # NUMERIC(18, 2): SQLite returns a float or an int, PostgreSQL a Decimal of scale 2.
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value.quantize(_CENT))
    return f"{value:.2f}"


# --------------------------------------------------------------------------- entities


def _survivor_pages(ctx: ReportContext, *clauses: ColumnElement[bool]) -> Iterator[list[Row]]:
    """Pages of (id, public_id, display_name, kind, region_code) of unmerged entities in id
    order (keyset pagination: no cursor stays open while each page is worked on)."""
    last: int = 0
    region = _region_clause(ctx)
    extra = [c for c in (*clauses, region) if c is not None]
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


def _visible_records(
    ctx: ReportContext, entities: _Entities, ids: list[int], *clauses: ColumnElement[bool]
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


def _counted(ctx: ReportContext, record: CreditRecord) -> bool:
    f = ctx.filters
    decided = record.decision_date
    return (
        (f.date_from is None or (decided is not None and decided >= f.date_from))
        and (f.date_to is None or (decided is not None and decided <= f.date_to))
        and (ctx.department_id is None or record.department_id == ctx.department_id)
        and (f.category is None or record.category is f.category)
        and (f.severity is None or record.severity is f.severity)
    )


def entities_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    clauses: list[ColumnElement[bool]] = []
    if f.list_type:
        clauses.append(Entity.id.in_(_list_entities(ctx)))
    if f.record_filters_given:
        matching = select(CreditRecord.entity_id).where(*_record_clauses(ctx))
        clauses.append(Entity.id.in_(matching.scalar_subquery()))
    entities = _Entities.load(ctx.session)
    for page in _survivor_pages(ctx, *clauses):
        ids = [row[0] for row in page]
        records = _visible_records(ctx, entities, ids)
        codes = entities.codes(ctx.session, ids)
        chunk: Chunk = []
        for entity_id, public_id, name, kind, region in page:
            mine = records.get(entity_id, [])
            counted = [r for r in mine if _counted(ctx, r)]
            if f.record_filters_given and not counted:
                # Its matching record belongs to a merged member outside the visible set.
                continue
            current = [r for r in mine if in_force(r, ctx.today)]
            grade = grade_entity(records=mine, today=ctx.today, rules=ctx.grade_rules)
            members = list_members(current)
            by_category = Counter(r.category.value for r in counted)
            black = sorted({membership_name(r) or "black" for k, r in members if k == "black"})
            red = sorted({membership_name(r) or "red" for k, r in members if k == "red"})
            cells = _entity_cells(ctx, (public_id, name, kind, region), codes.get(entity_id), name)
            chunk.append(
                (
                    *cells,
                    grade.letter,
                    "；".join(black),
                    "；".join(red),
                    len(counted),
                    *(by_category.get(c, 0) for c in CATEGORY_COUNT_COLUMNS),
                    sum(1 for r in current if r.category is RecordCategory.PENALTY),
                )
            )
        if chunk:
            yield chunk


# --------------------------------------------------------------------------- penalties


def penalties_rows(ctx: ReportContext) -> Iterator[Chunk]:
    month = month_of(CreditRecord.decision_date, ctx.dialect).label("month")

    def severity_count(severity: Severity) -> Any:
        return func.sum(case((CreditRecord.severity == severity, 1), else_=0))

    statement = (
        select(
            month,
            Department.code,
            Department.name,
            Entity.region_code,
            func.count(CreditRecord.id),
            severity_count(Severity.SERIOUS),
            severity_count(Severity.GENERAL),
            severity_count(Severity.MINOR),
            func.count(func.distinct(CreditRecord.entity_id)),
            func.sum(CreditRecord.fine_amount),
            func.sum(CreditRecord.confiscated_amount),
        )
        .join(Department, CreditRecord.department_id == Department.id)
        .outerjoin(Entity, CreditRecord.entity_id == Entity.id)
        .where(
            CreditRecord.category == RecordCategory.PENALTY,
            CreditRecord.decision_date.is_not(None),
            *_record_clauses(ctx),
        )
        .group_by(month, Department.code, Department.name, Entity.region_code)
        .order_by(month, Department.code, Entity.region_code)
    )
    region = _region_clause(ctx)
    if region is not None:
        statement = statement.where(region)
    rows = (
        (m, code, name, reg, int(n), int(s or 0), int(g or 0), int(mi or 0), int(e), fine, conf)
        for m, code, name, reg, n, s, g, mi, e, fine, conf in ctx.session.execute(statement)
    )
    yield from chunked((_money_row(r, (9, 10)) for r in rows), ctx.chunk_size)


def _money_row(row: Row, positions: Sequence[int]) -> Row:
    # SUM of NUMERIC comes back as float on SQLite and Decimal on PostgreSQL: one type out.
    cells = list(row)
    for i in positions:
        if cells[i] is not None:
            cells[i] = Decimal(str(cells[i])).quantize(Decimal("0.01"))
    return tuple(cells)


# --------------------------------------------------------------------------- lists


def _list_kind_clause(list_type: str | None) -> list[ColumnElement[bool]]:
    if list_type == "black":
        return [CreditRecord.category == RecordCategory.LIST_ENTRY]
    if list_type == "red":
        return [CreditRecord.category.in_([RecordCategory.RED_LIST, RecordCategory.CUSTOMS_RATING])]
    return [CreditRecord.category.in_([*_LIST_CATEGORIES, RecordCategory.CUSTOMS_RATING])]


def list_members_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Memberships today, by the same rule as the profile (``app.grading.list_members``)."""
    f = ctx.filters
    kinds = _list_kind_clause(f.list_type)
    candidates = select(CreditRecord.entity_id).where(
        visible_clause(ctx.viewer.feed_ids), in_force_clause(ctx.today), *kinds
    )
    entities = _Entities.load(ctx.session)
    for page in _survivor_pages(ctx, Entity.id.in_(candidates.scalar_subquery())):
        ids = [row[0] for row in page]
        records = _visible_records(ctx, entities, ids, in_force_clause(ctx.today), *kinds)
        codes = entities.codes(ctx.session, ids)
        departments = _department_codes(ctx.session)
        chunk: Chunk = []
        for entity_id, public_id, name, kind, region in page:
            members = list_members(records.get(entity_id, []))
            cells = _entity_cells(ctx, (public_id, name, kind, region), codes.get(entity_id), name)
            for list_kind, record in sorted(members, key=lambda m: (m[0], m[1].id)):
                if f.list_type and list_kind != f.list_type:
                    continue
                if ctx.department_id is not None and record.department_id != ctx.department_id:
                    continue
                listed = record.decision_date
                if f.date_from and (listed is None or listed < f.date_from):
                    continue
                if f.date_to and (listed is None or listed > f.date_to):
                    continue
                chunk.append(
                    (
                        *cells,
                        list_kind,
                        membership_name(record),
                        listed,
                        record.authority_name,
                        departments.get(record.department_id),
                        ctx.masker.text(record.content, kind, (name, record.party_name)),
                        record.id,
                    )
                )
        if chunk:
            yield chunk


def _department_codes(session: Session) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(Department.id, Department.code))}


def list_changes_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Additions by listing date and removals by removal date (or the end of publicity once
    passed), per month and list. Customs ratings are not list entries: not counted here."""
    f = ctx.filters
    categories = [
        c for c in _LIST_CATEGORIES if f.list_type is None or _LIST_KIND[c] == f.list_type
    ]
    base: list[ColumnElement[bool]] = [
        CreditRecord.category.in_(categories),
        visible_clause(ctx.viewer.feed_ids),
    ]
    if ctx.department_id is not None:
        base.append(CreditRecord.department_id == ctx.department_id)
    region = _region_clause(ctx)
    if region is not None:
        base.append(region)
    lapsed = and_(
        CreditRecord.removed_on.is_(None),
        CreditRecord.publicity_end.is_not(None),
        CreditRecord.publicity_end < ctx.today,
    )
    removal_date = case(
        (CreditRecord.removed_on.is_not(None), CreditRecord.removed_on),
        (lapsed, CreditRecord.publicity_end),
        else_=None,
    )
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for which, day in ((0, CreditRecord.decision_date), (1, removal_date)):
        month = month_of(day, ctx.dialect).label("month")
        statement = (
            select(month, CreditRecord.category, CreditRecord.list_name, func.count())
            .outerjoin(Entity, CreditRecord.entity_id == Entity.id)
            .where(*base, day.is_not(None), *_date_clauses(day, f))
            .group_by(month, CreditRecord.category, CreditRecord.list_name)
        )
        for m, category, list_name, n in ctx.session.execute(statement):
            key = (m, _LIST_KIND[category], list_name or "")
            counts[key][which] += int(n)
    rows = (
        (m, kind, name, added, removed, added - removed)
        for (m, kind, name), (added, removed) in sorted(counts.items())
    )
    yield from chunked(rows, ctx.chunk_size)


# --------------------------------------------------------------------------- data quality

# Days a feed may go without a successful run before it is stale, by catalogue update cycle.
CYCLE_DAYS = {
    "realtime": 1,
    "hourly": 1,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "half-yearly": 183,
    "yearly": 366,
    "annually": 366,
    "实时": 1,
    "每日": 1,
    "每周": 7,
    "每月": 31,
    "每季度": 92,
    "每半年": 183,
    "每年": 366,
}
REJECT_REASONS_SHOWN = 5


def data_quality_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    session = ctx.session
    feeds = select(Feed, Department.code).join(Department, Feed.department_id == Department.id)
    if ctx.department_id is not None:
        feeds = feeds.where(Feed.department_id == ctx.department_id)
    if f.category is not None:
        feeds = feeds.where(Feed.record_category == f.category)
    feed_rows = list(session.execute(feeds.order_by(Feed.code)))
    failed = case((IngestRun.status == IngestRunStatus.FAILED, 1), else_=0)
    runs = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                IngestRun.feed_id,
                func.count(IngestRun.id),
                func.sum(failed),
                func.sum(IngestRun.fetched),
                func.sum(IngestRun.accepted),
                func.sum(IngestRun.duplicate),
                func.sum(IngestRun.updated),
                func.sum(IngestRun.quarantined),
            )
            .where(*_time_clauses(IngestRun.started_at, f))
            .group_by(IngestRun.feed_id)
        )
    }
    last_success = dict(
        session.execute(
            select(IngestRun.feed_id, func.max(IngestRun.finished_at))
            .where(IngestRun.status == IngestRunStatus.SUCCEEDED)
            .group_by(IngestRun.feed_id)
        ).all()
    )
    stored = {
        row[0]: (int(row[1]), int(row[2] or 0))
        for row in session.execute(
            select(
                CreditRecord.feed_id,
                func.count(CreditRecord.id),
                func.count(CreditRecord.entity_id),
            ).group_by(CreditRecord.feed_id)
        )
    }
    quarantine = {
        row[0]: (int(row[1]), row[2])
        for row in session.execute(
            select(
                SourceRecord.feed_id,
                func.count(SourceRecord.id),
                func.min(SourceRecord.received_at),
            )
            .where(SourceRecord.status == SourceStatus.QUARANTINED)
            .group_by(SourceRecord.feed_id)
        )
    }
    chunk: Chunk = []
    for feed, department_code in feed_rows:
        n_runs, n_failed, fetched, accepted, duplicate, updated, rejected = (
            int(v or 0) for v in runs.get(feed.id, (0, 0, 0, 0, 0, 0, 0))
        )
        records, linked = stored.get(feed.id, (0, 0))
        backlog, oldest = quarantine.get(feed.id, (0, None))
        success = last_success.get(feed.id)
        if success is not None:
            success = _utc_seconds(success)
        cycle = CYCLE_DAYS.get((feed.update_cycle or "").strip().lower())
        # A fixed CREDITHUB_TODAY before the last run would make the age negative.
        age = max((ctx.today - success.date()).days, 0) if success else None
        if success is None:
            freshness = "never run"
        elif cycle is None:
            freshness = "unknown cycle"
        else:
            freshness = "stale" if age is not None and age > cycle else "fresh"
        reasons = _reject_reasons(ctx, feed.id) if backlog else ""
        chunk.append(
            (
                feed.code,
                feed.name,
                department_code,
                feed.record_category.value,
                feed.sharing_type.value,
                feed.enabled,
                feed.update_cycle,
                n_runs,
                n_failed,
                fetched,
                accepted,
                duplicate,
                updated,
                rejected,
                round(rejected / fetched, 4) if fetched else None,
                records,
                linked,
                round(linked / records, 4) if records else None,
                success,
                age,
                cycle,
                freshness,
                backlog,
                _utc_seconds(oldest) if oldest is not None else None,
                reasons,
            )
        )
    yield from chunked(chunk, ctx.chunk_size)


def _utc_seconds(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def _reject_reasons(ctx: ReportContext, feed_id: int) -> str:
    """The quarantine's errors of one feed counted by field and message, most frequent first;
    read in streamed batches so a big backlog is never held at once."""
    counts: Counter[str] = Counter()
    statement = select(SourceRecord.errors).where(
        SourceRecord.feed_id == feed_id, SourceRecord.status == SourceStatus.QUARANTINED
    )
    result = ctx.session.connection().execution_options(yield_per=1000).execute(statement)
    for (errors,) in result:
        for name, messages in (errors or {}).items():
            for message in _messages(messages):
                counts[f"{name}: {message}"] += 1
    shown = [f"{reason} ({n})" for reason, n in counts.most_common(REJECT_REASONS_SHOWN)]
    text = "; ".join(shown)
    return text if ctx.masker.full else mask_personal_text(text)


def _messages(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(value)]


# --------------------------------------------------------------------------- resolution


def resolution_rows(ctx: ReportContext) -> Iterator[Chunk]:
    f = ctx.filters
    session = ctx.session
    months: dict[str, Counter[str]] = defaultdict(Counter)

    link_month = month_of(MatchLink.decided_at, ctx.dialect, timestamp=True).label("month")
    for m, decision, decided_by, n in session.execute(
        select(link_month, MatchLink.decision, MatchLink.decided_by, func.count())
        .where(*_time_clauses(MatchLink.decided_at, f))
        .group_by(link_month, MatchLink.decision, MatchLink.decided_by)
    ):
        if decided_by is DecidedBy.REVIEWER:
            months[m]["reviewer_links"] += int(n)
        elif decision is MatchDecision.POSITIVE:
            months[m]["auto_links"] += int(n)
        elif decision is MatchDecision.UNSURE:
            months[m]["unsure_links"] += int(n)
        else:
            months[m]["negative_links"] += int(n)

    reviews = list(
        session.execute(
            select(EntityReview.created_at, EntityReview.decided_at, EntityReview.status)
        )
    )
    for created, decided, status in reviews:
        months[_month(created)]["reviews_opened"] += 1
        if decided is not None and status is ReviewStatus.CONFIRMED:
            months[_month(decided)]["reviews_confirmed"] += 1
        elif decided is not None and status is ReviewStatus.REJECTED:
            months[_month(decided)]["reviews_rejected"] += 1

    actions = {"entity.merge": "merges", "entity.unmerge": "unmerges", "entity.split": "splits"}
    event_month = month_of(AuditEvent.occurred_at, ctx.dialect, timestamp=True).label("month")
    for m, action, n in session.execute(
        select(event_month, AuditEvent.action, func.count())
        .where(AuditEvent.action.in_(list(actions)), *_time_clauses(AuditEvent.occurred_at, f))
        .group_by(event_month, AuditEvent.action)
    ):
        months[m][actions[action]] += int(n)

    start = f.date_from.strftime("%Y-%m") if f.date_from else None
    end = f.date_to.strftime("%Y-%m") if f.date_to else None
    in_range = sorted(
        m for m in months if (start is None or m >= start) and (end is None or m <= end)
    )
    rows = []
    for m in in_range:
        counts = months[m]
        rows.append(
            (
                m,
                counts["auto_links"],
                counts["unsure_links"],
                counts["negative_links"],
                counts["reviewer_links"],
                counts["reviews_opened"],
                counts["reviews_confirmed"],
                counts["reviews_rejected"],
                _backlog_at_end_of(m, reviews),
                counts["merges"],
                counts["unmerges"],
                counts["splits"],
            )
        )
    yield from chunked(rows, ctx.chunk_size)


def _month(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m")


def _backlog_at_end_of(month: str, reviews: list[Any]) -> int:
    """Reviews opened by the end of ``month`` and not decided by then."""
    return sum(
        1
        for created, decided, _status in reviews
        if _month(created) <= month and (decided is None or _month(decided) > month)
    )


ROW_SOURCES = {
    "records": records_rows,
    "entities": entities_rows,
    "penalties": penalties_rows,
    "list-members": list_members_rows,
    "list-changes": list_changes_rows,
    "data-quality": data_quality_rows,
    "resolution": resolution_rows,
}
