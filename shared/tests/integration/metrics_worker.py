"""A worker process (relay and one consumer) serving its metrics and health on a port, as ``aiorch-<service>
worker`` does with ``<SERVICE>_WORKER_METRICS_PORT``.

Run by test_event_metrics as a real process: argv = database_url schema nats_url port.
"""

import asyncio
import sys

from sqlalchemy import text

from shared.contracts import identity
from shared.db import create_engine
from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.consumer import ConsumerSpec, EventConsumer
from shared.messaging.relay import OutboxRelay, RelaySettings
from shared.messaging.worker import Worker
from shared.messaging.worker_endpoint import WorkerHealth

NAME = "worker.users"


async def record(event, conn):
    await conn.execute(
        text("INSERT INTO effects (consumer, event_id) VALUES (:c, :e)"), {"c": NAME, "e": event.event_id}
    )


async def main() -> None:
    configure_logging("metrics-worker")
    database_url, schema, nats_url, port = sys.argv[1:5]
    nc = await connect_nats(nats_url, name="metrics-worker", wait=10)
    engine = create_engine(database_url, schema=schema, application_name="metrics-worker")
    relay = OutboxRelay(
        database_url=database_url,
        schema=schema,
        nats=nc,
        settings=RelaySettings(poll_interval_s=0.1, metrics_every_s=0.2),
    )
    consumer = EventConsumer(
        ConsumerSpec(
            name=NAME,
            stream="IDENTITY",
            subjects=["identity.>"],
            decoder=identity.decoder,
            handler=record,
            lag_every_s=0.2,
        ),
        nats=nc,
        engine=engine,
    )
    health = WorkerHealth(nats=nc, engine=engine)
    await Worker(relay=relay, consumers=(consumer,), health=health, metrics_port=int(port)).run()
    await nc.close()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
