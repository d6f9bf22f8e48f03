"""The AI model adapters: the port's (``shared.kernel.ai``) implementations for the service chassis.

- ``offline``: the built-in deterministic model (no network); ``schema_instance`` gives it a
  valid answer for any schema no writer knows;
- ``openai_compatible``: OpenAI, llama.cpp's server and others speaking chat completions (SSE);
- ``ollama``: Ollama's ``/api/chat`` (NDJSON);
- ``resilience``: timeouts and retries before the first token, shared by the HTTP adapters;
  ``provider_errors``: a provider's refusal as a ``ModelError`` kind, the API key scrubbed;
- ``factory``: ``build_model(ModelConfig)``; ``local_server``: the local real model's server.
"""
