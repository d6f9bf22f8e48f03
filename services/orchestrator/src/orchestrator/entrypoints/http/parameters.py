"""Path and query parameters several controllers take, declared once with their limits."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.params import PathParameter

# the list parameters every service shares, re-exported beside this service's own
from shared.http.paging import Cursor as Cursor
from shared.http.paging import Limit as Limit

ProjectId = Annotated[UUID, PathParameter(description="One of my projects, by its `id`.")]
