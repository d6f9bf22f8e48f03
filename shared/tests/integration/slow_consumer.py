"""A worker process running one consumer whose handler takes a little while (an erasure, say).

Run by test_worker_crash as a real process, to be SIGKILLed mid-batch:
argv = database_url schema nats_url.
"""

import asyncio
import sys

from sqlalchemy import text

from shared.contracts import identity
from shared.db import create_engine
from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.consumer import ConsumerSpec, EventConsumer

NAME = "tests.slow"


async def record_slowly(event, conn):
    await asyncio.sleep(0.01)
    await conn.execute(
        text("INSERT INTO effects (consumer, event_id) VALUES (:c, :e)"), {"c": NAME, "e": event.event_id}
    )


async def main() -> None:
    configure_logging("slow-consumer")
    database_url, schema, nats_url = sys.argv[1:4]
    nc = await connect_nats(nats_url, name="slow-consumer", wait=10)
    engine = create_engine(database_url, schema=schema, application_name="slow-consumer")
    consumer = EventConsumer(
        ConsumerSpec(
            name=NAME,
            stream="IDENTITY",
            subjects=["identity.>"],
            decoder=identity.decoder,
            handler=record_slowly,
        ),
        nats=nc,
        engine=engine,
    )
    print("consumer started", flush=True)
    await consumer.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main())
