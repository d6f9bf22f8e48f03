"""chat's HTTP API, under ``/api/v1``; the shared app factory adds health, metrics and OpenAPI."""

from chat.entrypoints.http.routes import API_PREFIX, route_handlers

__all__ = ["API_PREFIX", "route_handlers"]
