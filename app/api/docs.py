"""/docs (Swagger UI) and /redoc served from local assets, so they work with no internet.

FastAPI's defaults load Swagger UI and ReDoc from a CDN; the assets here come from the ``fastapi-offline``
wheel (MIT; it vendors swagger-ui-dist and redoc's standalone bundle) and are served under ``/vendor/docs``.
The pages themselves are FastAPI's own ``get_swagger_ui_html``/``get_redoc_html`` (FastAPI docs, "Custom
Docs UI Static Assets (Self-Hosting)").
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/vendor/docs"
ASSETS_DIR = files("fastapi_offline") / "static"


def install_offline_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; build ``app`` with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
    title = app.title
    if app.openapi_url is None or app.swagger_ui_oauth2_redirect_url is None:
        raise ValueError("the offline docs need the app's OpenAPI document and Swagger UI's OAuth2 redirect URL")
    openapi_url, oauth2_redirect_url = app.openapi_url, app.swagger_ui_oauth2_redirect_url

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
