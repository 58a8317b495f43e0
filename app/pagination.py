"""Page arguments shared by every list endpoint, with a hard page-size limit."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 200


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


def paginate(
    session: Session, query: Select[Any], *, page: int, page_size: int
) -> tuple[list[Any], int]:
    """Rows of one page and the total count of the query."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.execute(query.limit(page_size).offset((page - 1) * page_size)))
    return rows, int(total or 0)


def page_body(items: list[Any], total: int, *, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "page_size": page_size}


class PageSchema(Schema):
    """One page of a list; subclasses add ``items``."""

    total = fields.Integer(metadata={"description": "rows matching the filters"})
    page = fields.Integer()
    page_size = fields.Integer()
