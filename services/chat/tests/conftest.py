"""The service under test is chat, as its composition root wires it (``aiorch_devkit.testing``)."""

import pytest

from chat.bootstrap import ROOT


@pytest.fixture(scope="session")
def service_root():
    return ROOT
