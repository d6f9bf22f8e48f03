"""``GET /api/v1/whoami``: the caller's principal, as this service verified it.

Every service that accepts identity's access tokens serves it, so a client (or an
operator) can check that a token is accepted here and what it grants.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import get

from shared.auth import BEARER_SECURITY, CurrentPrincipal


class WhoAmI(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    role: str
    session_id: UUID
    expires_at: datetime


@get("/api/v1/whoami", operation_id="whoami", tags=["auth"], security=BEARER_SECURITY, sync_to_thread=False)
def whoami(principal: CurrentPrincipal) -> WhoAmI:
    """The authenticated caller: user id, role, session and when the token expires.

    Returns:
        The principal the bearer token grants; 401 problem details when it is missing or invalid.
    """
    return WhoAmI(
        user_id=principal.user_id,
        role=principal.role,
        session_id=principal.session_id,
        expires_at=principal.expires_at,
    )
