"""Key material and AES-GCM: API keys encrypted at rest, and sealed for the services that call models."""
