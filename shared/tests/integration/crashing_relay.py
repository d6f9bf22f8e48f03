"""A relay process that SIGKILLs itself between publishing and marking rows sent.

Run by test_failures as a real process: argv = database_url schema nats_url kill_at, where
kill_at is the 1-based batch whose mark-sent it dies before (0: never).
"""

import asyncio
import os
import signal
import sys

from shared.logging import configure_logging
from shared.messaging.connection import connect_nats
from shared.messaging.relay import OutboxRelay, RelaySettings


class CrashingRelay(OutboxRelay):
    batches = 0

    async def _mark_sent(self, conn, ids):
        self.batches += 1
        if self.batches == int(sys.argv[4]):
            os.kill(os.getpid(), signal.SIGKILL)  # published, acknowledged, not yet marked
        await super()._mark_sent(conn, ids)


async def main() -> None:
    configure_logging("crashing-relay")
    nc = await connect_nats(sys.argv[3], name="crashing-relay", wait=10)
    relay = CrashingRelay(
        database_url=sys.argv[1],
        schema=sys.argv[2],
        nats=nc,
        settings=RelaySettings(batch_size=25, poll_interval_s=0.1),
    )
    await relay.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main())
