"""chat: conversations, messages, attachments and streamed assistant replies."""

SERVICE = "chat"
__version__ = "0.1.0"
