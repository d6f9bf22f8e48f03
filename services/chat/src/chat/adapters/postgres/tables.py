"""chat's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is chat's schema. Migrations
do not import this module; they are the history, this is the present.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()

erasures = sa.Table(
    "erasures",
    metadata,
    sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
)
