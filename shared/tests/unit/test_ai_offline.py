"""The offline model: deterministic, streamed token by token, valid structured answers, no network."""

import asyncio
import json

import jsonschema_rs
import msgspec
import pytest

from shared.ai.offline import OfflineModel, tokens
from shared.kernel.ai import ChatMessage, ChatRequest, ModelRequestRejected, Parameters


def ask(text: str, *, system: str = "", **parameters) -> ChatRequest:
    messages = [ChatMessage(role="system", content=system)] if system else []
    messages.append(ChatMessage(role="user", content=text))
    return ChatRequest(model="offline", messages=messages, parameters=Parameters(**parameters))


class Plan(msgspec.Struct, forbid_unknown_fields=True):
    summary: str
    steps: list[str]


def plan_schema() -> str:
    return json.dumps(msgspec.json.schema(Plan))


def test_tokens_join_back_to_the_text_and_cut_compact_json_into_pieces():
    text = ' {"a":"b c"}  and  more\n'

    pieces = tokens(text)

    assert "".join(pieces) == text
    assert len(pieces) > 5


async def test_the_same_request_gets_the_same_answer_streamed_in_many_chunks():
    model = OfflineModel()

    first = [c async for c in model.stream(ask("A todo app for teams"))]
    second = [c async for c in model.stream(ask("A todo app for teams"))]

    assert first == second
    assert len(first) > 10
    assert all(c.finish_reason is None for c in first[:-1])


async def test_the_last_chunk_says_stop_and_carries_the_usage():
    completion = await OfflineModel().complete(ask("A todo app for teams"))

    assert completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 5
    assert completion.usage.completion_tokens == len(tokens(completion.content))
    assert "todo app for teams" in completion.content


async def test_a_system_prompt_asking_for_a_question_gets_an_answer_ending_with_a_question_mark():
    completion = await OfflineModel().complete(ask("A todo app", system="Ask one question at a time."))

    assert completion.content.endswith("?")


async def test_max_tokens_cuts_the_answer_with_finish_length():
    completion = await OfflineModel().complete(ask("A todo app for teams", max_tokens=3))

    assert completion.finish_reason == "length"
    assert completion.usage.completion_tokens == 3


async def test_a_stop_sequence_ends_the_answer_before_it():
    full = await OfflineModel().complete(ask("A todo app for teams"))

    cut = await OfflineModel().complete(ask("A todo app for teams", stop=("offline",)))

    assert cut.content == full.content[: full.content.index("offline")]
    assert cut.finish_reason == "stop"


async def test_a_registered_writer_answers_its_schema_title():
    model = OfflineModel(writers={"Plan": lambda request: '{"summary":"s","steps":["one"]}'})

    completion = await model.complete(ask("plan it", json_schema=plan_schema()))

    assert msgspec.json.decode(completion.content, type=Plan) == Plan(summary="s", steps=["one"])


async def test_a_schema_without_a_writer_gets_a_valid_instance_of_itself():
    schema = plan_schema()

    completion = await OfflineModel().complete(ask("plan it", json_schema=schema))

    jsonschema_rs.validate(json.loads(schema), json.loads(completion.content))
    assert msgspec.json.decode(completion.content, type=Plan).steps


async def test_a_schema_that_is_not_json_is_a_rejected_request():
    with pytest.raises(ModelRequestRejected):
        await OfflineModel().complete(ask("plan it", json_schema="{not json"))


async def test_the_pace_spaces_the_chunks_and_cancelling_stops_the_stream():
    model = OfflineModel(pace_s=0.05)
    received: list[str] = []

    async def consume() -> None:
        async for chunk in model.stream(ask("A todo app for teams")):
            received.append(chunk.delta)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert 1 <= len(received) <= 4


def test_the_model_says_it_is_offline():
    assert OfflineModel().name == "offline"


def test_a_prose_answer_goes_on_to_the_length_a_load_test_asks_for():
    from shared.ai.offline import OfflineModel, tokens
    from shared.kernel.ai import ChatMessage, ChatRequest

    request = ChatRequest(model="offline", messages=[ChatMessage(role="user", content="hi")])
    short = OfflineModel().answer(request)
    long = OfflineModel(min_prose_tokens=300).answer(request)
    assert len(tokens(short)) < 300 <= len(tokens(long))
    assert long.startswith(short)


async def test_tokens_due_the_same_millisecond_share_one_timer_and_a_past_one_is_due_at_once():
    from shared.ai.offline import _Ticks

    loop = asyncio.get_running_loop()
    ticks = _Ticks.of(loop)
    assert _Ticks.of(loop) is ticks  # one clock per event loop, for every stream on it
    deadline = loop.time() + 0.01
    first, second = ticks.until(deadline), ticks.until(deadline)
    assert first is not None
    assert second is not None
    assert len(ticks._due) == 1  # one timer for both streams
    await asyncio.gather(first, second)
    assert ticks.until(loop.time() - 1.0) is None  # a consumer that ran late is not made to wait again
