"""The board's read model: the ownership check and every card in one statement, no transaction.

A single SELECT needs no transaction for a consistent answer (one statement sees one snapshot),
so the connection runs in autocommit: no BEGIN and ROLLBACK round trips around it.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.adapters.postgres.tables import projects, tasks
from orchestrator.adapters.postgres.tasks import CARD_COLUMNS, card_from_row
from orchestrator.domain.board import Board, Card
from orchestrator.domain.tasks import COLUMNS

# the project row alone when it has no task (its cards' columns NULL); no row when it is not the
# owner's. Served by the primary key and tasks_board_idx (project_id, status, position).
_BOARD: Final = (
    sa.select(*CARD_COLUMNS, projects.c.status.label("project_status"))
    .select_from(projects.outerjoin(tasks, tasks.c.project_id == projects.c.id))
    .where(projects.c.id == sa.bindparam("project_id"), projects.c.owner_id == sa.bindparam("owner_id"))
    .order_by(tasks.c.status, tasks.c.position, tasks.c.id)
)


class SqlAlchemyBoardReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def board(self, project_id: UUID, owner_id: UUID) -> Board | None:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_BOARD, {"project_id": project_id, "owner_id": owner_id})).all()
        if not rows:
            return None
        # the query sorts columns by name; the board's order is left to right
        by_column: dict[str, list[Card]] = {status: [] for status in COLUMNS}
        for row in rows:
            if row[0] is not None:
                by_column[row[2]].append(card_from_row(row))
        cards = [card for column in by_column.values() for card in column]
        return Board(archived=rows[0][-1] == "archived", cards=cards)
