"""identity's composition root: the only package that knows every concrete class.

:mod:`~identity.bootstrap.root` names identity's pieces in a ``ServiceRoot`` (the app, the
worker, migrations) and builds the API's resources; :mod:`~identity.bootstrap.ports` builds
the ports from the settings, taking :class:`Replacements` for any of them (so a test can run
the API on in-memory fakes); :mod:`~identity.bootstrap.use_cases` binds every use case to
the ports and rules it names. Nothing connects at import time.
"""

from identity.bootstrap.ports import Ports, Replacements, open_ports, policy
from identity.bootstrap.root import ROOT, create_app, run_create_admin, run_rotate_keys
from identity.bootstrap.use_cases import bind

__all__ = [
    "ROOT",
    "Ports",
    "Replacements",
    "bind",
    "create_app",
    "open_ports",
    "policy",
    "run_create_admin",
    "run_rotate_keys",
]
