"""The erasure ledger as it is now, for queries (migrations never import it).

Unqualified: the connection's search_path is the service's schema.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()

erasures = sa.Table(
    "erasures",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    # the identity.user.deleted event that asked (``Erasure.cause_event_id``)
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
)
