"""Tests parametrised over services: ``@pytest.mark.parametrize("service_root", [...], indirect=True)``."""

import importlib

import pytest


@pytest.fixture(scope="session")
def service_root(request):
    """The composition root (``<service>.bootstrap.ROOT``) of the service named by the parameter."""
    return importlib.import_module(f"{request.param}.bootstrap").ROOT


@pytest.fixture(autouse=True)
def _private_working_directory(request, tmp_path, monkeypatch):
    """Integration tests run in a directory of their own, so a service's relative default
    paths (identity's ``.cluster/identity-keys`` and ``.cluster/mail``) never land in the
    repository. (A conftest in ``tests/integration`` would clash by module name with
    ``shared/tests/integration``'s under ``--import-mode=importlib``.)"""
    if "integration" in request.node.path.parts:
        monkeypatch.chdir(tmp_path)
