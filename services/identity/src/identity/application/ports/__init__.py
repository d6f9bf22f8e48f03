"""Every port identity's use cases depend on, by role; adapters implement them.

* :mod:`.persistence`: the unit of work, its repositories, and the reads outside it;
* :mod:`.authentication`: the session check behind every authenticated request;
* :mod:`.security`: password hashing, access tokens, signing keys, secret tokens;
* :mod:`.mail`, :mod:`.oidc`: outgoing mail, external login;
* :mod:`.runtime`: the clock, work after the answer.
"""

from identity.application.ports.authentication import AccountPrincipal, SessionGate
from identity.application.ports.mail import Mailer
from identity.application.ports.oidc import OidcClient
from identity.application.ports.persistence import (
    Attempts,
    AuditTrail,
    EmailTaken,
    OidcLinkRepository,
    OneTimeTokenRepository,
    PendingLoginRepository,
    Queries,
    RefreshTokenRepository,
    SessionRepository,
    UnitOfWork,
    UserRepository,
)
from identity.application.ports.runtime import Background, Clock
from identity.application.ports.security import (
    AccessTokenIssuer,
    KeyStoreError,
    PasswordHasher,
    SecretTokens,
    SigningKeys,
)

__all__ = [
    "AccessTokenIssuer",
    "AccountPrincipal",
    "Attempts",
    "AuditTrail",
    "Background",
    "Clock",
    "EmailTaken",
    "KeyStoreError",
    "Mailer",
    "OidcClient",
    "OidcLinkRepository",
    "OneTimeTokenRepository",
    "PasswordHasher",
    "PendingLoginRepository",
    "Queries",
    "RefreshTokenRepository",
    "SecretTokens",
    "SessionGate",
    "SessionRepository",
    "SigningKeys",
    "UnitOfWork",
    "UserRepository",
]
