"""chat's settings, from ``CHAT_*`` environment variables.

The fields every service has, with their shared fallbacks (``DATABASE_URL``...),
are in ``shared.service_settings``; chat adds its own port, and verifies access tokens.
"""

from shared.service_settings import Port, TokenVerifyingSettings


class Settings(TokenVerifyingSettings, kw_only=True, frozen=True):
    http_port: Port = 8002
    """Port chat's API listens on (``CHAT_HTTP_PORT``)."""
