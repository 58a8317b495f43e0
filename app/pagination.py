"""Page arguments shared by every list endpoint, with a hard page-size limit (the query side
is :func:`core.db.paginate`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

MAX_PAGE_SIZE = 200


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


def page_body(items: list[Any], total: int, *, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "page_size": page_size}


class PageSchema(Schema):
    """One page of a list; subclasses add ``items``."""

    total = fields.Integer(metadata={"description": "rows matching the filters"})
    page = fields.Integer()
    page_size = fields.Integer()
