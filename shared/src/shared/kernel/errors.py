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


class Unprocessable(DomainError):
    """Well-formed, but what it names cannot be used as it stands (a disabled model, say): 422."""

    title = "Unprocessable content"


class TooManyRequests(DomainError):
    """A limit of the caller's was reached; retry after ``retry_after_s`` seconds (429, ``Retry-After``)."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
