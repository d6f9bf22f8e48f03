"""chat's side of the event bus: domain events → public contracts."""
