"""orchestrator's settings, from ``ORCHESTRATOR_*`` environment variables.

The fields every service has, with their shared fallbacks (``DATABASE_URL``...),
are in ``shared.service_settings``; orchestrator adds its own port, and verifies access tokens.
"""

from shared.service_settings import Port, TokenVerifyingSettings


class Settings(TokenVerifyingSettings, kw_only=True, frozen=True):
    http_port: Port = 8003
    """Port orchestrator's API listens on (``ORCHESTRATOR_HTTP_PORT``)."""
