"""Work run after the answer, on the event loop, drained at shutdown."""
