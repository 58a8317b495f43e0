"""``/api/docs``: the interactive OpenAPI page, every asset served from this server (the
Swagger UI files come from the swagger-ui-bundle package; no CDN)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, url_for
from swagger_ui_bundle import swagger_ui_path

from app.security_headers import fill_in

blp = Blueprint(
    "apidocs",
    __name__,
    url_prefix="/api/docs",
    static_folder=swagger_ui_path,
    static_url_path="/assets",
)

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>CreditHub API 文档 / API documentation</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <main id="swagger-ui" aria-label="API documentation"></main>
  <script src="{bundle}"></script>
  <script src="{preset}"></script>
  <script src="{init}"></script>
</body>
</html>
"""

_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "%s",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // A token typed into "Authorize" lives only as long as the page: persisting it would
    // leave a regulator's bearer token in localStorage for any later user of the browser.
    persistAuthorization: false,
    // No badge image from validator.swagger.io: nothing leaves for another site.
    validatorUrl: null
  });
};
"""


# Swagger UI runs its own scripts and fetches the OpenAPI document and "Try it out" calls from
# this server only; it styles elements inline (no script can hide in a style), and draws icons
# as data: images. Nothing may frame it.
DOCS_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@blp.after_request
def _security_headers(response: Response) -> Response:
    return fill_in(response, DOCS_SECURITY_HEADERS)


@blp.get("/")
def page() -> Response:
    html = _PAGE.format(
        css=url_for("apidocs.static", filename="swagger-ui.css"),
        bundle=url_for("apidocs.static", filename="swagger-ui-bundle.js"),
        preset=url_for("apidocs.static", filename="swagger-ui-standalone-preset.js"),
        init=url_for("apidocs.initializer"),
    )
    return Response(html, mimetype="text/html")


@blp.get("/initializer.js")
def initializer() -> Response:
    return Response(_INIT % "/api/v1/openapi.json", mimetype="application/javascript")


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
