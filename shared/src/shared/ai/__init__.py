"""The AI model adapters: the port's (``shared.kernel.ai``) implementations for the service chassis.

``offline`` (deterministic, no network), ``openai_compatible`` (OpenAI, llama.cpp's server and
others speaking chat completions over SSE), ``ollama`` (``/api/chat``, NDJSON) and ``factory``,
which builds one from a :class:`~shared.ai.factory.ModelConfig`.
"""
