"""Every controller chat serves (conversations and messages arrive with their issues)."""

from litestar.types import ControllerRouterHandler

from chat.entrypoints.http.attachments import AttachmentsController
from chat.entrypoints.http.conversations import ConversationsController
from chat.entrypoints.http.messages import ConversationMessagesController, MessagesController
from chat.entrypoints.http.search import search
from shared.http.whoami import whoami

API_PREFIX = "/api/v1"


def route_handlers() -> list[ControllerRouterHandler]:
    return [
        whoami,
        search,
        ConversationsController,
        ConversationMessagesController,
        MessagesController,
        AttachmentsController,
    ]
