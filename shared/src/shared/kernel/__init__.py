"""The tiny kernel domain code may import: ids, clock, errors; and the unit-of-work port."""
