"""The auto title: what is asked of the model, how its answer is read, the offline model's writer."""

from __future__ import annotations

import json

from chat.adapters.ai.offline_titles import WRITERS, conversation_title
from chat.application.prompts import TITLE_SCHEMA_NAME, title_of
from shared.ai.offline import OfflineModel
from shared.kernel.ai import ChatMessage, ChatRequest, Parameters


def test_a_structured_answer_gives_its_title_and_prose_its_first_line():
    assert title_of('{"title": "Quokka mugs"}') == "Quokka mugs"
    assert title_of("Quokka mugs\nmore words") == "Quokka mugs"
    assert title_of("   ") == ""
    assert title_of('{"name": "x"}') == '{"name": "x"}'


def test_the_offline_writer_titles_by_the_users_first_words():
    request = ChatRequest(
        model="offline",
        messages=[
            ChatMessage(
                role="user", content="user: tell me how quokka mugs are made, please\n\nassistant: ok"
            )
        ],
    )
    assert json.loads(conversation_title(request)) == {"title": "Tell me how quokka mugs are"}


async def test_the_offline_model_answers_the_title_request_with_its_writer():
    from chat.application.prompts import TITLE_SCHEMA

    model = OfflineModel(writers=WRITERS)
    request = ChatRequest(
        model="offline",
        messages=[ChatMessage(role="user", content="user: Plan a trip to Rome\n\nassistant: Sure")],
        parameters=Parameters(json_schema=TITLE_SCHEMA),
    )
    completion = await model.complete(request)
    assert title_of(completion.content) == "Plan a trip to Rome"
    assert TITLE_SCHEMA_NAME in WRITERS
