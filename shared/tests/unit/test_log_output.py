"""Log lines reach stdout in batches: one flush for the lines of a moment, not one per line."""

import asyncio
import io
from contextlib import redirect_stdout

from shared.log_output import FLUSH_DELAY_S, BatchingStdoutLogger


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


# Swapped inside each test: pytest puts its own capture back in sys.stdout between phases.


def test_a_line_written_off_any_event_loop_is_flushed_at_once():
    with redirect_stdout(CountingStream()) as stdout:
        BatchingStdoutLogger().info('{"event": "starting"}')

    assert stdout.getvalue() == '{"event": "starting"}\n'
    assert stdout.flushes == 1


async def test_lines_written_on_a_loop_are_flushed_together_shortly_after():
    with redirect_stdout(CountingStream()) as stdout:
        logger = BatchingStdoutLogger()
        for n in range(100):
            logger.info(f'{{"n": {n}}}')

        assert stdout.flushes == 0
        await asyncio.sleep(FLUSH_DELAY_S * 3)
    assert stdout.flushes == 1
    assert len(stdout.getvalue().splitlines()) == 100


def test_a_flush_left_pending_by_an_ended_loop_does_not_stop_later_ones():
    async def log_and_leave() -> None:
        BatchingStdoutLogger().info('{"event": "last words"}')

    async def log_and_wait() -> None:
        BatchingStdoutLogger().info('{"event": "later"}')
        await asyncio.sleep(FLUSH_DELAY_S * 3)

    with redirect_stdout(CountingStream()) as stdout:
        asyncio.run(log_and_leave())  # ends before its flush was due
        asyncio.run(log_and_wait())
    assert stdout.flushes >= 1
    assert stdout.getvalue().splitlines() == ['{"event": "last words"}', '{"event": "later"}']
