"""The app's JSON provider (orjson) writes what Flask's own provider wrote."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from app.json_provider import OrjsonProvider


@dataclasses.dataclass
class _Point:
    y: int
    x: str


VALUES: list[Any] = [
    {"b": 1, "a": [1.5, None, True, "北京市朝阳区", "\u2028", "\x00"], "c": {"z": {}, "y": []}},
    {"day": date(2026, 12, 3), "at": datetime(2026, 12, 3, 4, 5, 6, tzinfo=UTC)},
    {"id": uuid.UUID(int=7), "point": _Point(1, "东")},
    {"big": 2**70, "amount": Decimal("1.10")},
    [1e16, 0.1, -0.0, 123456789.123456789],
    {1: "non-string key"},
    "plain",
]


def _flask_provider(app: Flask) -> DefaultJSONProvider:
    provider = DefaultJSONProvider(app)
    provider.ensure_ascii = False
    return provider


@pytest.mark.parametrize("value", VALUES)
def test_same_text_as_flasks_provider(value: Any) -> None:
    app = Flask(__name__)
    ours, flasks = OrjsonProvider(app), _flask_provider(app)
    try:
        expected = flasks.dumps(value)
    except TypeError:
        with pytest.raises(TypeError):
            ours.dumps(value)
        return
    assert ours.dumps(value) == expected
    compact = flasks.dumps(value, separators=(",", ":"))
    assert ours.dumps(value, separators=(",", ":")) == compact
    assert ours.encode_compact(value) == compact.encode()
    with app.app_context():
        assert ours.response(value).get_data() == flasks.response(value).get_data()
        app.debug = True
        assert ours.response(value).get_data() == flasks.response(value).get_data()


def test_loads_reads_what_json_reads() -> None:
    app = Flask(__name__)
    ours = OrjsonProvider(app)
    assert ours.loads('{"a": [1, "北京"]}') == {"a": [1, "北京"]}
    assert ours.loads(b"NaN") != ours.loads(b"NaN")  # the standard module's leniency, as before
    with pytest.raises(ValueError):
        ours.loads("{")


def test_api_answers_write_chinese_as_characters(client: Any) -> None:
    response = client.get("/api/v1/public/entities?q=不存在的公司名称")
    assert response.status_code == 200
    assert response.is_json
    problem = client.get("/api/v1/public/entities/不存在")
    assert "不存在" in problem.get_data(as_text=True)
    assert "\\u" not in problem.get_data(as_text=True)
