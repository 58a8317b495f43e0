"""The compiled dump of the hot answers (``app.fast_dump``) gives marshmallow's own output: every
hot GET, for every role and the public, answered once with the compiled dump and once with
marshmallow's, byte for byte the same."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from marshmallow import Schema, fields
from sqlalchemy.orm import Session, sessionmaker

from app.entities.schemas import EntityPageSchema, ProfileSchema, RecordPageSchema
from app.fast_dump import FastDumpSchema
from app.public.schemas import PublicPageSchema, PublicProfileSchema
from tests.support.credit import ID_WANG, ID_ZHANG, USCC_XINGHE
from tests.support.pages import PagesWorld, seed_pages_world

HOT_SCHEMAS = (EntityPageSchema, ProfileSchema, RecordPageSchema, PublicPageSchema,
               PublicProfileSchema)  # fmt: skip


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> PagesWorld:
    return seed_pages_world(session_factory)


def _urls(world: PagesWorld) -> list[str]:
    urls = [f"/api/v1/entities?q={q}" for q in (USCC_XINGHE, ID_WANG, ID_ZHANG, "星河科技", "张")]
    urls += ["/api/v1/entities", "/api/v1/entities?page_size=2&page=2"]
    for public_id in world.ids.values():
        urls += [
            f"/api/v1/entities/{public_id}",
            f"/api/v1/entities/{public_id}/records",
            f"/api/v1/public/entities/{public_id}",
        ]
    urls += [f"/api/v1/public/entities?q={q}" for q in (USCC_XINGHE, "星河科技", "王芳")]
    return urls


def test_hot_answers_are_marshmallows_for_every_role(
    client: FlaskClient, world: PagesWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers: dict[str, dict[str, str]] = {"public": {}}
    callers |= {name: {"Authorization": f"Bearer {t}"} for name, t in world.tokens.items()}
    fast: dict[tuple[str, str], tuple[int, bytes]] = {}
    for name, headers in callers.items():
        for url in _urls(world):
            response = client.get(url, headers=headers)
            fast[(name, url)] = (response.status_code, response.data)
    with monkeypatch.context() as patch:
        patch.setattr(FastDumpSchema, "dump", Schema.dump)
        for (name, url), answer in fast.items():
            response = client.get(url, headers=callers[name])
            assert (response.status_code, response.data) == answer, (name, url)
    oks = [key for key, (status, _body) in fast.items() if status == 200]
    assert len(oks) > 60  # the comparison covered real answers, not only refusals
    assert {name for name, _url in oks} == set(callers)


class _Inner(Schema):
    when = fields.DateTime()
    amount = fields.Decimal(as_string=True, allow_none=True)


class _Odd(FastDumpSchema):
    text = fields.String(allow_none=True)
    renamed = fields.Integer(data_key="other")
    ratio = fields.Float()
    flag = fields.Boolean()
    day = fields.Date(allow_none=True)
    inner = fields.Nested(_Inner)
    many = fields.List(fields.Nested(_Inner))
    by_key = fields.Dict(keys=fields.String(), values=fields.Nested(_Inner))
    free = fields.Dict()
    ids = fields.List(fields.Integer())
    stamp = fields.DateTime(format="%Y/%m/%d")  # not ISO: marshmallow's own serializer


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"text": None, "day": None, "inner": None, "many": None},
        {
            "text": "北京", "renamed": 3, "ratio": 1, "flag": True, "day": date(2026, 1, 2),
            "inner": {"when": datetime(2026, 1, 2, 3, 4, 5), "amount": Decimal("10.50")},
            "many": [{"amount": 3.25}, {"amount": None, "extra": 1}],
            "by_key": {"a": {"amount": "7"}}, "free": {"x": [1, {"y": None}]},
            "ids": [1, 2], "stamp": datetime(2026, 5, 6), "unknown": "dropped",
        },
    ],
)  # fmt: skip
def test_compiled_dump_equals_marshmallow_field_by_field(value: dict[str, Any]) -> None:
    assert _Odd().dump(value) == Schema.dump(_Odd(), value)
    assert _Odd(many=True).dump([value, value]) == Schema.dump(_Odd(many=True), [value, value])


def test_only_and_exclude_fall_back_to_marshmallow() -> None:
    value = {"text": "a", "renamed": 1}
    assert _Odd(only=("text",)).dump(value) == {"text": "a"}
    assert _Odd(exclude=("text",)).dump(value) == {"other": 1}
