"""orchestrator's API on real PostgreSQL and NATS, behind identity's tokens.

``api`` is the app as its composition root builds it, verifying tokens against a JWKS
server on loopback (root ``tests/conftest.py``); ``caller()`` mints a token for a new
user (or admin) and answers the headers to send.
"""

from __future__ import annotations

from tests.conftest import jwks  # noqa: F401 - a fixture
from tests.service_api import Caller, _private_working_directory, api, api_settings, caller  # noqa: F401 - fixtures


# api, api_settings, caller and the private working directory: shared with the other services' tests
