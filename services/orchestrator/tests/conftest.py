"""The service under test is orchestrator, as its composition root wires it (``aiorch_devkit.testing``)."""

import pytest

from orchestrator.bootstrap import ROOT


@pytest.fixture(scope="session")
def service_root():
    return ROOT
