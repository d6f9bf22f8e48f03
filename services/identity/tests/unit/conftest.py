"""The use cases' fakes: a fixed clock, the ports built on it, an in-memory unit of work.

A test module that needs another clock (or none) defines its own ``clock``; pytest takes
the nearest definition.
"""

import pytest
from services.identity.tests.unit.fakes import FakeMonotonic, fake_identity, fake_uow

from aiorch_devkit.testing.fakes import FixedClock


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def monotonic():
    return FakeMonotonic()


@pytest.fixture
def fakes(clock):
    """The ports as fakes on ``clock``, and the use cases bound to them: ``fakes.use.register(cmd, uow)``."""
    return fake_identity(clock)


@pytest.fixture
def uow():
    return fake_uow()
