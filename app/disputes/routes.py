"""Credit repair and objections (being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("disputes", __name__, description="Credit repair and objections")
