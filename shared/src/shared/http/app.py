"""The app factory every service builds its Litestar app with.

It wires what must be the same everywhere: problem details for every error,
request ids and JSON access logs, health endpoints, Prometheus metrics, OpenAPI
at ``/schema``. Services add their controllers, dependencies and lifespan.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any, Final

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.types import ControllerRouterHandler, Receive, Scope, Send

from shared.auth import BEARER_SCHEME
from shared.http.docs_assets import docs_assets_router, docs_render_plugins
from shared.http.draining import DRAIN_STATE_KEY, Drain, StreamDrainMiddleware, not_draining
from shared.http.health import ReadinessCheck, health_handlers
from shared.http.input_guard import BODY_REFUSALS, DEFAULT_BODY_LIMIT, InputGuardMiddleware, reads_json_body
from shared.http.metrics import RequestMetricsMiddleware
from shared.http.metrics_endpoint import metrics_controller
from shared.http.openapi import ClosedStructSchemaPlugin, problem_responses
from shared.http.problems import EXCEPTION_HANDLERS
from shared.http.request_id import RequestIdMiddleware
from shared.http.socket_frames import keep_server_send

YOUNG_GC_THRESHOLD: Final = 10_000
_saved_thresholds: list[tuple[int, int, int]] = []  # the collector's, as each running app found it


class ServiceApp(Litestar):
    """Litestar with the request-id layer (and the stream cutter of the shutdown) outside its router.

    Litestar's own middleware runs only for matched routes; an unknown path or
    method would answer without a request id. Wrapping ``__call__`` covers all.
    """

    def __init__(
        self,
        *args: Any,
        drain: Drain,
        access_log_sample: float = 1.0,
        hsts: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._outermost = RequestIdMiddleware(
            StreamDrainMiddleware(partial(Litestar.__call__, self), drain),
            access_log_sample=access_log_sample,
            hsts=hsts,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        keep_server_send(scope, send)
        await self._outermost(scope, receive, send)

    def register(self, value: ControllerRouterHandler) -> None:  # type: ignore[override]
        super().register(value)
        _answer_options_for_the_whole_path(self.routes)
        _document_body_refusals(self.routes)


def _document_body_refusals(routes: Sequence[object]) -> None:
    """Every operation reading a JSON body documents what the input guard answers for it: 400
    (empty, malformed, NUL, too deep, invalid), 413 (over its limit), 415 (not JSON)."""
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if reads_json_body(handler):
                handler.responses = {**problem_responses(*BODY_REFUSALS), **(handler.responses or {})}


def _answer_options_for_the_whole_path(routes: Sequence[object]) -> None:
    """Litestar's automatic ``OPTIONS`` handler answers ``Allow`` from the route it was made
    with; a path whose methods come from several handlers is rebuilt as a new route as each
    registers, and the handler kept the first one (``GET /users/me`` answered ``Allow: DELETE,
    OPTIONS``). Pointed at the route that serves the path, it lists every method."""
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            cells = getattr(handler.fn, "__closure__", None) or ()
            if handler.handler_name == "options_handler":
                for cell in cells:
                    if isinstance(cell.cell_contents, HTTPRoute):
                        cell.cell_contents = route


def _freeze_startup_objects() -> None:
    """Keep what start-up built (modules, routes, schemas, pools) out of the cyclic collector.

    A full collection walks every tracked object; the app's tens of thousands of long-lived
    ones made each one a pause that showed as the p99 of every request (95 ms against the
    bare endpoint's 35 ms in make bench; 30 ms once frozen). Frozen objects are still freed
    by reference counting; only cycle detection skips them. (No collection first: it would
    cost every start, and the few cycles start-up left behind go back on shutdown.)

    The youngest generation is then collected every ``YOUNG_GC_THRESHOLD`` allocations
    instead of Python's 700: a request allocates hundreds of objects, so the default ran a
    young collection every other request, each walking the objects of every request in
    flight; almost all of them are freed by reference counting long before 10,000
    allocations. (make bench, /users/me at one worker with its access line: 0.57-0.58 of the
    bare endpoint before, 0.61 and 0.65 after.) Cycles are still found, a little later.
    """
    _saved_thresholds.append(gc.get_threshold())
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)


def _unfreeze() -> None:
    gc.unfreeze()  # back under the collector: a process that starts apps again (tests) leaks nothing
    if _saved_thresholds:
        gc.set_threshold(*_saved_thresholds.pop())


def create_service_app(
    *,
    service: str,
    version: str,
    route_handlers: Sequence[ControllerRouterHandler],
    description: str = "",
    readiness: Sequence[ReadinessCheck] = (),
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = (),
    dependencies: Mapping[str, Provide] | None = None,
    state: Mapping[str, Any] | None = None,
    debug: bool = False,
    access_log_sample: float = 1.0,
    tls_terminated: bool = False,
    metrics_token: str | None = None,
    shutdown_delay_s: float = 0.0,
) -> Litestar:
    """``tls_terminated``: clients reach the service over HTTPS through a proxy (answers carry
    HSTS). ``metrics_token``: the bearer token ``/metrics`` requires; without one it is off.
    ``shutdown_delay_s``: how long a signalled process stays up, unready, before it stops serving
    (:mod:`shared.http.draining`)."""
    drain = Drain(delay_s=shutdown_delay_s)
    openapi = OpenAPIConfig(
        title=f"aiorch {service}",
        version=version,
        description=description or None,
        path="/schema",
        render_plugins=docs_render_plugins(),
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Access token issued by the identity service.",
                )
            }
        ),
        use_handler_docstrings=True,
    )
    return ServiceApp(
        route_handlers=[
            *route_handlers,
            *health_handlers([ReadinessCheck("shutdown", not_draining), *readiness]),
            metrics_controller(metrics_token),
            docs_assets_router(),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),  # type: ignore[arg-type]
        # metrics outside the guard, so its refusals are counted too
        middleware=[DefineMiddleware(RequestMetricsMiddleware, app_name=service), InputGuardMiddleware],
        request_max_body_size=DEFAULT_BODY_LIMIT,
        openapi_config=openapi,
        plugins=[ClosedStructSchemaPlugin()],
        lifespan=[drain.on_signals, *lifespan],
        dependencies=dict(dependencies or {}),
        state=State({**(state or {}), DRAIN_STATE_KEY: drain}),
        # Litestar's default logging config replaces the root handler with its own
        # plain-text one; logging belongs to shared.logging (JSON, request ids).
        logging_config=None,
        on_startup=[_freeze_startup_objects],
        on_shutdown=[_unfreeze],
        debug=debug,
        drain=drain,
        access_log_sample=access_log_sample,
        hsts=tls_terminated,
    )
