"""The ``records`` report: every credit record the caller may see, by id, through one streamed
query. The hot loop of bulk exports: rows are read by position, enums stay text, an entity's
code comes from SQL (from Python only for the few entities in a merge), and the entity cells
of a company (public data) skip the masker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import String, case, select, type_coerce
from sqlalchemy.types import NullType

from app.entities.present import title_of
from app.reports.masking import CODE_PREFERENCE, ELEVEN_DIGITS
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
    """Credit records, by id, through one streamed query.

    The hot loop of bulk exports: rows are read by position, enums stay text, an entity's
    code comes from SQL (from Python only for the few entities in a merge), and the entity
    cells of a company (public data) skip the masker."""
    statement = records_statement(ctx)
    entities = EntityGroups.load(ctx.session)
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
