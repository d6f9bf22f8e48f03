"""orchestrator: projects, interviews, versioned prompts, Kanban tasks, commits and the AI-model registry."""

SERVICE = "orchestrator"
__version__ = "0.1.0"
