"""``/metrics``, off unless a token is set: an operator's scrape, not a public page.

The series tell anyone who reads them the routes, their traffic and their errors, and the
scrape costs the service work; on the public port they were anyone's. With a token set
(``<SERVICE>_METRICS_TOKEN``, or ``AIORCH_METRICS_TOKEN`` for every service) a scrape must
send ``Authorization: Bearer <token>`` (Prometheus: ``authorization: {credentials: …}``);
without one, ``/metrics`` is a 404 like any path the service does not serve.
"""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController

PATH = "/metrics"


def metrics_controller(token: str | None) -> type[PrometheusController]:
    """The ``/metrics`` controller, answering only a scrape that carries ``token``."""
    expected = f"Bearer {token}".encode() if token else None

    def scrape_allowed(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
        if expected is None:
            raise NotFoundException()
        given = connection.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):  # constant time: the token is a secret
            raise NotAuthorizedException(
                detail="The metrics scrape needs the metrics bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )

    class MetricsController(PrometheusController):
        path = PATH
        include_in_schema = False
        guards = [scrape_allowed]

    return MetricsController


__all__ = ["PATH", "metrics_controller"]
