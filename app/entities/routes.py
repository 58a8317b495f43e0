"""Entity search, profile and records (being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("entities", __name__, url_prefix="/entities", description="Entities")
