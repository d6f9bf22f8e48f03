"""Path and query parameters several of chat's controllers take, declared once with their limits."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.params import PathParameter

# the list parameters every service shares, re-exported beside this service's own
from shared.http.paging import Cursor as Cursor
from shared.http.paging import Limit as Limit

ConversationId = Annotated[UUID, PathParameter(description="One of my conversations, by its `id`.")]
MessageId = Annotated[UUID, PathParameter(description="A message of one of my conversations, by its `id`.")]
