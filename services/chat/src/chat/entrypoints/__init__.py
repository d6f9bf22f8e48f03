"""chat's ways in: the HTTP API, the event worker, the command line."""
