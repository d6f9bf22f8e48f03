"""The pure core domain and application code may import: ids, clock, errors, pagination cursors,
aggregate event recording, the unit-of-work port and the AI model port. Standard library and msgspec only."""
