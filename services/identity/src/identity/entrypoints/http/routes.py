"""Every controller identity serves: the API under ``/api/v1``; the key set and the pages of the
mailed links at the site root."""

from litestar import Router
from litestar.types import ControllerRouterHandler

from identity.entrypoints.http.admin import AdminController
from identity.entrypoints.http.auth import AuthController
from identity.entrypoints.http.errors import EXCEPTION_HANDLERS
from identity.entrypoints.http.oidc import OidcController
from identity.entrypoints.http.pages import LinkPagesController
from identity.entrypoints.http.recovery import RecoveryController
from identity.entrypoints.http.sessions import SessionsController
from identity.entrypoints.http.users import MeController
from identity.entrypoints.http.well_known import WellKnownController

API_PREFIX = "/api/v1"


def route_handlers() -> list[ControllerRouterHandler]:
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            RecoveryController,
            SessionsController,
            MeController,
            AdminController,
            OidcController,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    return [api, WellKnownController, LinkPagesController]
