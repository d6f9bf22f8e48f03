"""Domain error families the HTTP layer maps to problem details.

Domain and application code raise these; only the HTTP adapter knows status codes.
"""


class DomainError(Exception):
    """Base: a rule of the domain was broken by the request (maps to 4xx)."""

    title = "Request not allowed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class InvalidInput(DomainError):
    title = "Invalid input"


class Forbidden(DomainError):
    title = "Forbidden"


class PreconditionFailed(DomainError):
    title = "Precondition failed"
