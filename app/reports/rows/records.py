"""The ``records`` report: every credit record the caller may see, by id, through one streamed
query. The hot loop of bulk exports: rows are read by position, enums stay text, an entity's
code comes from SQL (from Python only for the few entities in a merge), and the entity cells
of a company (public data) skip the masker."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Result, String, case, select, type_coerce
from sqlalchemy.types import NullType

from app.entities.present import title_of
from app.reports.masking import CODE_PREFERENCE, Masker
from app.reports.rows.context import (
    Chunk,
    EntityGroups,
    ReportContext,
    Row,
    list_entities,
    record_clauses,
    region_clause,
)
from core.models import (
    CreditRecord,
    CreditStatus,
    Department,
    Entity,
    EntityIdentifier,
    EntityKind,
    Feed,
)
from core.rules.publicity import publicity_ended

_CENT = Decimal("0.01")
_PERSON = EntityKind.NATURAL_PERSON.value
_ACTIVE = CreditStatus.ACTIVE.value
_EXPIRED = CreditStatus.EXPIRED.value


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
        .where(*record_clauses(ctx, scan=True))
        .order_by(CreditRecord.id)
    )
    region = region_clause(ctx)
    if region is not None:
        statement = statement.where(region)
    if ctx.filters.list_type:
        statement = statement.where(CreditRecord.entity_id.in_(list_entities(ctx)))
    return statement


def records_rows(ctx: ReportContext) -> Iterator[Chunk]:
    """Credit records, by id, through one streamed query (see the module's docstring)."""
    statement = records_statement(ctx)
    rows = _RecordRows(ctx, EntityGroups.load(ctx.session))
    for partition in _stream(ctx, statement).partitions(ctx.chunk_size):
        yield rows.chunk(partition)


def _stream(ctx: ReportContext, statement: Any) -> Result[Any]:
    connection = ctx.session.connection().execution_options(yield_per=ctx.chunk_size)
    if not ctx.text_values:
        return connection.execute(statement)
    # Without result types: SQLite hands back its stored text (ISO dates) and numbers as
    # they are, which is what a text file holds anyway, and no value is converted per cell.
    # The filters stay bound parameters.
    untyped = [type_coerce(column, NullType()) for column in statement.selected_columns]
    return connection.execute(statement.with_only_columns(*untyped))


@dataclass
class _Survivors:
    """A chunk's records of merged entities show their survivor. Its details and the best
    code over its whole merge group are read once per chunk, for the few entities in a merge
    only: every other record's entity cells come from its own row."""

    merged: dict[int, int]
    details: dict[int, Row]
    group_codes: dict[int, tuple[str, str]]

    @classmethod
    def load(
        cls,
        ctx: ReportContext,
        entities: EntityGroups,
        in_merges: set[int],
        partition: Sequence[Any],
    ) -> _Survivors:
        merged = {r[1]: entities.survivor(r[1]) for r in partition if r[6] is not None}
        details = entities.details(ctx.session, merged.values())
        group_codes = entities.codes(
            ctx.session,
            {merged.get(r[1], r[1]) for r in partition if r[1] is not None and r[1] in in_merges},
        )
        return cls(merged, details, group_codes)

    def entity(
        self, entity_id: int, merged_into: int | None, own: Row
    ) -> tuple[Any, Any, str, Any, tuple[str, str] | None]:
        """(public_id, name, kind, region, code) shown for a record of ``entity_id``, whose
        own (public_id, name, kind, region) are ``own``."""
        if merged_into is not None:
            entity_id = self.merged[entity_id]
            public_id, name, kind, region = self.details[entity_id]
            own = (public_id, name, kind.value, region)
        return (*own, self.group_codes.get(entity_id))


class _RecordRows:
    """The report rows of one export's records, chunk by chunk. What every row needs (the
    caller's masker, today, the merge groups) is looked up here once, not per row."""

    def __init__(self, ctx: ReportContext, entities: EntityGroups) -> None:
        self.ctx = ctx
        self.entities = entities
        self.in_merges = set(entities.survivors) | set(entities.members)
        self.text = ctx.text_values
        self.today: date | str = ctx.today.isoformat() if self.text else ctx.today
        self.masker: Masker = ctx.masker
        self.full = self.masker.full

    def chunk(self, partition: Sequence[Any]) -> Chunk:
        survivors = _Survivors.load(self.ctx, self.entities, self.in_merges, partition)
        row = self._row
        return [row(r, survivors) for r in partition]

    def _row(self, r: Row, survivors: _Survivors) -> Row:
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
        cells: Row
        if entity_id is None:
            cells = (None, self.masker.name(party_name, None), None, None, None)
        else:
            if entity_id in self.in_merges:
                own = (public_id, name, kind, region)
                public_id, name, kind, region, code = survivors.entity(entity_id, merged_into, own)
            else:
                code = tuple(own_code.split(":", 1)) if own_code else None
            cells = self._linked_entity_cells(public_id, name, kind, region, code)
        if self.text:
            decided = _iso(decided)
            publicity_end = _iso(publicity_end)
            fine = _money_text(fine)
        # core.rules.publicity.effective_status, on the row's text status.
        if status == _ACTIVE and publicity_ended(publicity_end, self.today):
            status = _EXPIRED
        title = self._title(
            title_of(title, list_name, grade, decision_number), kind, party_name, name
        )
        return (
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

    def _linked_entity_cells(
        self, public_id: str, name: str, kind: str, region: str | None, code: tuple[str, ...] | None
    ) -> Row:
        # A company's code and name are public data: only a person's go through the masker.
        masker, full = self.masker, self.full
        if code is None:
            shown = None
        elif full or (kind != _PERSON and code[0] != "resident_id"):
            shown = code[1]
        else:
            shown = masker.code(code[0], code[1], EntityKind(kind))
        if kind == _PERSON and not full:
            return (public_id, masker.name(name, EntityKind.NATURAL_PERSON), shown, kind, region)
        return (public_id, name, shown, kind, region)

    def _title(
        self, title: str | None, kind: str | None, party_name: str | None, name: str | None
    ) -> str | None:
        if self.full or title is None:
            return title
        if kind == _PERSON:
            return self.masker.text(title, EntityKind.NATURAL_PERSON, (party_name, name))
        return self.masker.text(title, None)


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
