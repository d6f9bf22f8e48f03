"""``GET /projects/{id}/events``: the live board, as server-sent events.

Fed from orchestrator's own events on NATS (the ``board`` dependency, an
``adapters.messaging.board_feed``), never by polling tables: an event reaches the client as soon
as the relay publishes it after the commit. The project is checked at connect (another user's is
a 404) and the feed is filtered by its id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final
from uuid import UUID

from litestar import get
from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter, PathParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from orchestrator.application.ports.board import FeedOverflow
from orchestrator.application.projects import owned_project
from orchestrator.entrypoints.http.dependencies import BoardDep, UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from shared.auth import BEARER_SECURITY, CurrentPrincipal

KEEP_ALIVE_S: Final = 15.0
"""A comment line this often when nothing happens, so proxies keep the connection open."""
RETRY_MS: Final = 1000
PROJECT_DELETED: Final = "orchestrator.project.deleted"


@get(
    "/api/v1/projects/{project_id:uuid}/events",
    operation_id="stream_board_events",
    summary="Live board: a project's changes as server-sent events",
    tags=["board"],
    security=BEARER_SECURITY,
    responses=problems(400, 401, 404),
    media_type="text/event-stream",
)
async def board_events(
    project_id: Annotated[UUID, PathParameter(description="One of my projects, by its `id`.")],
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    board: BoardDep,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            pattern="^[0-9]{1,19}$",
            # a header is text or absent, never null (Litestar documents `str | None` as string or null)
            schema_extra={"oneOf": None, "type": OpenAPIType.STRING},
            description="Resume after this event `id` (what the browser's EventSource sends on reconnect).",
        ),
    ] = None,
) -> ServerSentEvent:
    """A `text/event-stream` of the project's task, prompt, interview, commit and project events
    as they are published: each message's event name is the subject (e.g. `orchestrator.task.moved`),
    its data the event's JSON as in the AsyncAPI catalog, its id the position. The first message, `ready`,
    carries the position the stream starts from. Reconnect with `Last-Event-ID` to get exactly
    the events missed since. A comment line keeps an idle connection open; the stream ends after
    the project's deletion."""
    async with uow:
        await owned_project(uow, project_id, principal.user_id)
    after = None if last_event_id is None else int(last_event_id)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async with board.follow(project_id, after=after) as feed:
            ready = f'{{"project_id": "{project_id}"}}'
            yield ServerSentEventMessage(event="ready", id=feed.last_sequence, data=ready, retry=RETRY_MS)
            while True:
                try:
                    event = await feed.next(KEEP_ALIVE_S)
                except FeedOverflow:
                    return  # the client reconnects with Last-Event-ID and reads on from there
                if event is None:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    continue
                yield ServerSentEventMessage(id=event.sequence, event=event.subject, data=event.data.decode())
                if event.subject == PROJECT_DELETED:
                    return  # nothing more will happen on this board

    return ServerSentEvent(messages(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
