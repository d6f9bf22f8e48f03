"""orchestrator's domain: pure Python, no framework, database or broker."""
