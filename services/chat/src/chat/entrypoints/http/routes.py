"""Every controller chat serves (conversations and messages arrive with their issues)."""

from litestar.types import ControllerRouterHandler

from chat.entrypoints.http.attachments import AttachmentsController
from chat.entrypoints.http.conversations import ConversationsController
from chat.entrypoints.http.messages import ConversationMessagesController, MessagesController
from chat.entrypoints.http.replies import MessageRepliesController
from chat.entrypoints.http.reply_socket import conversation_socket
from chat.entrypoints.http.reply_stream import stream_reply
from chat.entrypoints.http.search import search
from chat.entrypoints.http.usage import get_usage
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
        get_usage,
        MessageRepliesController,
        stream_reply,
        conversation_socket,
    ]
