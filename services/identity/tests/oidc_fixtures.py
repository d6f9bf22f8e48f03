"""pytest fixtures for a running test OIDC provider (:mod:`oidc_provider` beside this file).

Test modules import the fixture under its own name (pytest runs with
``--import-mode=importlib`` and service test folders are not packages, so this is the
path pytest gives the module), with a redundant alias so linters see a re-export::

    from services.identity.tests.oidc_fixtures import oidc_provider_fixture as oidc_provider_fixture

    async def test_login(oidc_provider): ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from services.identity.tests.oidc_provider import OidcTestProvider


@pytest.fixture(name="oidc_provider")
def oidc_provider_fixture() -> Iterator[OidcTestProvider]:
    """A fresh provider (RS256 key, one configured user, request counts at zero) on a free loopback port."""
    with OidcTestProvider() as provider:
        yield provider
