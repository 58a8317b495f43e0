"""Public lookup (being written)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("public", __name__, url_prefix="/public", description="Public lookup")
