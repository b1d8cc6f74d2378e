"""The REST API's own documentation, served from local files (no CDN: intranets are offline).

Swagger UI (``/api/docs``) and ReDoc (``/api/redoc``) load their scripts and
styles from ``/api/docs-assets/``, the files bundled by the ``fastapi-offline``
package (Swagger UI under Apache 2.0, ReDoc under MIT); ReDoc is told not to
fetch web fonts and Swagger UI not to call its online validator. The OpenAPI
document declares the error statuses of every operation
(:func:`onemap.api.protocol.document_errors`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from onemap.api.protocol import document_errors

#: Folder of the bundled Swagger UI / ReDoc files.
ASSETS = Path(str(files("fastapi_offline") / "static"))


def install_docs(api: FastAPI, prefix: str = "/api") -> None:
    """Add ``/docs``, ``/redoc``, ``/docs-assets`` and the documented OpenAPI to ``api``.

    Parameters
    ----------
    api : FastAPI
        The REST sub-application (created with ``docs_url=None, redoc_url=None``).
    prefix : str
        Where ``api`` is mounted (for the URLs in the pages).
    """
    api.mount("/docs-assets", StaticFiles(directory=ASSETS), name="docs-assets")
    assets = f"{prefix}/docs-assets"

    @api.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json", title=f"{api.title} – Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})

    @api.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=f"{prefix}/openapi.json", title=f"{api.title} – ReDoc",
                              redoc_js_url=f"{assets}/redoc.standalone.js",
                              redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            doc = get_openapi(title=api.title, version=api.version, description=api.description,
                              routes=api.routes)
            doc.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "POST /api/login 取得的令牌，或接口令牌"}}
            doc["security"] = [{"bearer": []}]
            doc["paths"].get("/login", {}).get("post", {})["security"] = []
            api.openapi_schema = document_errors(doc, public={"/login"})
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
