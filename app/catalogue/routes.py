"""``GET /api/v1/catalogue``: the government data resource catalogue."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.api import Blueprint
from app.auth.access import allow
from app.catalogue.schemas import CatalogueSchema
from app.catalogue.services import list_catalogue
from app.runtime import request_session
from core.models import Role

blp = Blueprint("catalogue", __name__, url_prefix="/catalogue", description="Data catalogue")


@blp.route("")
class Catalogue(MethodView):
    @allow(Role.REGULATOR, Role.DEPARTMENT, Role.ANALYST)
    @blp.response(200, CatalogueSchema)
    def get(self) -> dict[str, Any]:
        """Every catalogued data resource with its sharing type, conditions and schedule."""
        items = list_catalogue(session=request_session())
        return {"items": items, "total": len(items)}
