"""identity on PostgreSQL: tables, row mappers, repositories, the unit of work, read queries."""
