"""The API docs pages (``/schema``, ``/schema/swagger``) with their scripts served locally.

Litestar's render plugins load Swagger UI (and their favicon) from a CDN by default, so
the docs were blank offline or behind a proxy. The ``swagger-ui-py`` package ships
Swagger UI 5's built files (``swagger-ui-bundle`` ships Swagger UI 3, which cannot read
OpenAPI 3.1); every service serves them under ``ASSETS_PATH`` and its docs pages reference
nothing outside the service. Only the files are used: the package is found without being
imported (its Python side would pull in its own templating).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Final

from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

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


def swagger_ui_files() -> Path:
    """The directory of Swagger UI's built files in the installed ``swagger-ui-py``."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: the API docs pages have no scripts")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_assets_router() -> Router:
    """Swagger UI's files, straight from the installed package."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[swagger_ui_files()],
        include_in_schema=False,
        cache_control=None,
        name="docs-assets",
    )
