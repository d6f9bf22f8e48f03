"""``GET /api/v1/whoami``: the caller's principal, as this service verified it.

Every service that accepts identity's access tokens serves it, so a client (or an
operator) can check that a token is accepted here and what it grants.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get

from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.openapi import problem_responses


class WhoAmI(msgspec.Struct, frozen=True, kw_only=True):
    user_id: Annotated[UUID, msgspec.Meta(description="The account the token was issued to.")]
    role: Annotated[
        str,
        msgspec.Meta(
            description="The account's role now: the token's, or the one identity has announced since it "
            "was issued (a role change applies at once, without a refresh)."
        ),
    ]
    session_id: Annotated[UUID, msgspec.Meta(description="The login session the token belongs to.")]
    expires_at: Annotated[datetime, msgspec.Meta(description="When the token stops being accepted.")]


@get(
    "/api/v1/whoami",
    operation_id="whoami",
    summary="Who the access token says I am",
    tags=["auth"],
    security=BEARER_SECURITY,
    responses=problem_responses(401),
    sync_to_thread=False,
)
def whoami(principal: CurrentPrincipal) -> WhoAmI:
    """The principal this service verified the bearer token to grant: the user, their role, the
    session the token belongs to and when the token expires. A missing, invalid or expired token
    is a 401."""
    return WhoAmI(
        user_id=principal.user_id,
        role=principal.role,
        session_id=principal.session_id,
        expires_at=principal.expires_at,
    )
