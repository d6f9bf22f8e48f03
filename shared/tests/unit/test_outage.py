"""Which errors mean "the database is away" (503, wait and retry) and which are bugs (500)."""

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.db.outage import is_outage


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError("reset by peer"),
        OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."),
        TimeoutError(),
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
)
def test_an_unreachable_database_is_an_outage(exc):
    assert is_outage(exc)


def test_an_outage_raised_from_another_error_is_still_one():
    exc = RuntimeError("could not load the user")
    exc.__cause__ = ConnectionRefusedError(111, "refused")
    assert is_outage(exc)


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("INSERT ...", {}, Exception("duplicate key")),
        asyncpg.UniqueViolationError("duplicate key"),
        FileNotFoundError(2, "No such file"),
        ValueError("bad"),
    ],
)
def test_a_bug_or_bad_data_is_not_an_outage(exc):
    assert not is_outage(exc)


def test_an_error_merely_handled_during_an_outage_is_not_one():
    exc = KeyError("unrelated")
    exc.__context__ = ConnectionRefusedError(111, "refused")
    assert not is_outage(exc)
