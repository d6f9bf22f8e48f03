"""The board's read model: the ownership check and every card in one statement, no transaction.

A single SELECT needs no transaction for a consistent answer (one statement sees one snapshot),
so it runs on the raw asyncpg read pool (``shared.db.pool``): one round trip, no BEGIN and
ROLLBACK around it, no reset on release, and asyncpg's own decoding of the rows (the board is
the hottest read of the service).
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from orchestrator.adapters.postgres.tables import projects, tasks
from orchestrator.adapters.postgres.tasks import CARD_COLUMNS, card_from_row
from orchestrator.domain.board import Board, Card
from orchestrator.domain.tasks import COLUMNS
from shared.db.pool import CompiledQuery

# the project row alone when it has no task (its cards' columns NULL); no row when it is not the
# owner's. Served by the primary key and tasks_board_idx (project_id, status, position).
_BOARD: Final = (
    sa.select(*CARD_COLUMNS, projects.c.status.label("project_status"))
    .select_from(projects.outerjoin(tasks, tasks.c.project_id == projects.c.id))
    .where(projects.c.id == sa.bindparam("project_id"), projects.c.owner_id == sa.bindparam("owner_id"))
    .order_by(tasks.c.status, tasks.c.position, tasks.c.id)
)
_BOARD_QUERY: Final = CompiledQuery.of(_BOARD)


class AsyncpgBoardReader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def board(self, project_id: UUID, owner_id: UUID) -> Board | None:
        rows = await _BOARD_QUERY.fetch(self._pool, project_id=project_id, owner_id=owner_id)
        if not rows:
            return None
        # the query sorts columns by name; the board's order is left to right
        by_column: dict[str, list[Card]] = {status: [] for status in COLUMNS}
        for row in rows:
            if row[0] is not None:
                by_column[row[2]].append(card_from_row(row))
        cards = [card for column in by_column.values() for card in column]
        return Board(archived=rows[0][-1] == "archived", cards=cards)
