"""orchestrator on PostgreSQL: tables, row mappers, repositories, the unit of work."""
