"""orchestrator's HTTP API, under ``/api/v1``; the shared app factory adds health, metrics and OpenAPI."""

from orchestrator.entrypoints.http.routes import API_PREFIX, route_handlers

__all__ = ["API_PREFIX", "route_handlers"]
