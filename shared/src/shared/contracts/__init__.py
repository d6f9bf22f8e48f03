"""Public event contracts, one module per publishing context.

msgspec Structs only: this package imports neither SQLAlchemy nor nats, so any
consumer (or another language's codegen) can depend on it alone.
"""

from shared.contracts.base import Event, event_type_of, subject_of

__all__ = ["Event", "event_type_of", "subject_of"]
