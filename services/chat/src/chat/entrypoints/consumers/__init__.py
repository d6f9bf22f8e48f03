"""chat's event consumers (each a factory ``shared.bootstrap`` gives units of work to)."""
