"""The API docs pages (``/schema``, ``/schema/swagger``) with their scripts served locally.

Litestar's render plugins load Swagger UI (and their favicon) from a CDN by default, so
the docs were blank offline or behind a proxy. The ``swagger-ui-bundle`` package ships
Swagger UI's built files; every service serves them under ``ASSETS_PATH`` and its docs
pages reference nothing outside the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

ASSETS_PATH: Final = "/schema/assets"


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at ``/schema`` and ``/schema/swagger``, every asset from ``ASSETS_PATH``."""
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        )
    ]


def docs_assets_router() -> Router:
    """Swagger UI's files, straight from the installed package."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[Path(str(swagger_ui_path))],
        include_in_schema=False,
        cache_control=None,
        name="docs-assets",
    )
