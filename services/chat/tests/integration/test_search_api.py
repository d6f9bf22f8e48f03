"""GET /api/v1/search on real PostgreSQL: stemmed words, phrases, exclusions and title hits, ranked
best first with highlighted snippets, paged by an opaque cursor without a duplicate or a gap,
owner-scoped, and every hostile query a 4xx problem or an empty page, never a 500.

``api`` and ``caller`` come from this folder's conftest; ``seed`` writes rows straight into the
tables (what the search reads), so these tests depend on no other use case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from chat.adapters.postgres.tables import conversations, messages
from chat.application.erasure import erase_users_data
from chat.application.ports.search import MARK_START, MARK_STOP
from shared.kernel.ids import new_id
from shared.kernel.pagination import encode_cursor

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SEARCH = "/api/v1/search"

pytestmark = pytest.mark.asyncio


@pytest.fixture
def seed(service_engine):
    """``seed(owner, title, *contents)``: a conversation whose messages alternate user and
    assistant, each a reply to the one before; returns its id and its messages' ids."""

    async def add(
        owner_id: UUID, title: str, *contents: str, archived: bool = False, status: str = "completed"
    ) -> tuple[UUID, list[UUID]]:
        conversation_id = new_id()
        ids = [new_id() for _ in contents]
        rows = [
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "owner_id": owner_id,
                "parent_id": ids[number - 1] if number else None,
                "sender": "assistant" if number % 2 else "user",
                "content": content,
                "status": status if number % 2 else "completed",
                "metadata": {},
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "created_at": NOW + timedelta(seconds=number),
            }
            for number, (message_id, content) in enumerate(zip(ids, contents, strict=True))
        ]
        async with service_engine.begin() as conn:
            await conn.execute(
                conversations.insert().values(
                    id=conversation_id,
                    owner_id=owner_id,
                    title=title,
                    title_source="user" if title else "none",
                    pinned=False,
                    archived=archived,
                    messages_count=len(contents),
                    created_at=NOW,
                    last_activity_at=NOW,
                )
            )
            if rows:
                await conn.execute(messages.insert(), rows)
        return conversation_id, ids

    return add


async def found(api, who, q: str, **params) -> dict:
    answer = await api.get(SEARCH, params={"q": q, **params}, headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def message_ids(page: dict) -> list[str]:
    return [hit["message_id"] for hit in page["items"] if hit["kind"] == "message"]


def marked(word: str) -> str:
    return f"{MARK_START}{word}{MARK_STOP}"


# --- what a query finds ----------------------------------------------------------------


async def test_a_word_finds_its_other_forms_and_the_snippet_marks_it(api, caller, seed):
    alice = caller()
    conversation_id, (question, _reply) = await seed(
        alice.user_id, "Fitness", "How far should I run each morning?", "Start with two kilometres."
    )

    page = await found(api, alice, "running")

    assert page["next_cursor"] is None
    [hit] = page["items"]
    assert hit["kind"] == "message"
    assert hit["message_id"] == str(question)
    assert hit["conversation_id"] == str(conversation_id)
    assert hit["conversation_title"] == "Fitness"
    assert marked("run") in hit["snippet"]
    assert hit["created_at"].startswith("2026-01-01T00:00:00")
    assert hit["rank"] > 0


async def test_a_quoted_phrase_finds_those_words_in_that_order_only(api, caller, seed):
    alice = caller()
    _, (in_order, reversed_) = await seed(
        alice.user_id, "", "The quick brown fox jumps.", "A brown and quick fox sleeps."
    )

    assert message_ids(await found(api, alice, "quick brown")) != []
    assert set(message_ids(await found(api, alice, "quick brown"))) == {str(in_order), str(reversed_)}
    assert message_ids(await found(api, alice, '"quick brown"')) == [str(in_order)]


async def test_a_minus_excludes_the_messages_holding_that_word(api, caller, seed):
    alice = caller()
    _, (database, frontend) = await seed(
        alice.user_id, "", "Deploy the database first.", "Deploy the frontend after it."
    )

    assert message_ids(await found(api, alice, "deploy -database")) == [str(frontend)]
    assert message_ids(await found(api, alice, "deploy or database")) != []
    assert str(database) in message_ids(await found(api, alice, "deploy or database"))


async def test_a_title_matches_as_a_title_hit_with_the_whole_title_highlighted(api, caller, seed):
    alice = caller()
    conversation_id, _ = await seed(
        alice.user_id, "Kubernetes migration plan", "What goes first?", "The DNS."
    )

    [hit] = (await found(api, alice, "kubernetes"))["items"]

    assert hit["kind"] == "title"
    assert hit["message_id"] is None
    assert hit["conversation_id"] == str(conversation_id)
    assert hit["conversation_title"] == "Kubernetes migration plan"
    assert hit["snippet"] == f"{marked('Kubernetes')} migration plan"


async def test_a_long_message_answers_fragments_around_the_matches_not_all_of_it(api, caller, seed):
    alice = caller()
    filler = " ".join(f"word{number}" for number in range(400))
    await seed(alice.user_id, "", f"{filler} the invoice is late {filler} again the invoice {filler}")

    [hit] = (await found(api, alice, "invoice"))["items"]

    assert hit["snippet"].count(marked("invoice")) == 2
    assert len(hit["snippet"]) < 600


async def test_hits_come_best_first(api, caller, seed):
    alice = caller()
    _, (once, thrice, _twice_far) = await seed(
        alice.user_id,
        "",
        "A note on caching, among other things we discussed at length today in the meeting room.",
        "Caching, caching and more caching.",
        "Caching is hard. "
        + "Unrelated words go here to push the second mention far away. " * 3
        + "Caching.",
    )

    page = await found(api, alice, "caching")
    ranks = [hit["rank"] for hit in page["items"]]

    assert ranks == sorted(ranks, reverse=True)
    assert message_ids(page)[0] == str(thrice)
    assert message_ids(page)[-1] == str(once)


async def test_archived_conversations_are_searched_unless_filtered_out(api, caller, seed):
    alice = caller()
    _, (active,) = await seed(alice.user_id, "", "Quarterly budget review")
    _, (archived,) = await seed(alice.user_id, "", "Budget for the offsite", archived=True)

    assert set(message_ids(await found(api, alice, "budget"))) == {str(active), str(archived)}
    assert message_ids(await found(api, alice, "budget", archived="true")) == [str(archived)]
    assert message_ids(await found(api, alice, "budget", archived="false")) == [str(active)]


async def test_a_reply_still_pending_is_not_a_hit_but_a_streaming_one_is(api, caller, seed, service_engine):
    alice = caller()
    _, (question, reply) = await seed(alice.user_id, "", "Tell me about volcanoes", "Volcanoes erupt when")
    async with service_engine.begin() as conn:
        await conn.execute(messages.update().where(messages.c.id == reply).values(status="pending"))

    assert message_ids(await found(api, alice, "volcano")) == [str(question)]

    async with service_engine.begin() as conn:
        await conn.execute(messages.update().where(messages.c.id == reply).values(status="streaming"))
    assert set(message_ids(await found(api, alice, "volcano"))) == {str(question), str(reply)}


# --- paging ----------------------------------------------------------------------------


async def test_pages_follow_each_other_without_a_duplicate_or_a_gap(api, caller, seed):
    alice = caller()
    # equal ranks (identical texts) and distinct ones (more mentions), in several conversations
    for conversation in range(3):
        await seed(
            alice.user_id,
            f"Deadline {conversation}" if conversation == 1 else "",
            *(["The deadline is Friday."] * 6),
            *(["deadline " * (number + 2) for number in range(4)]),
        )
    everything = (await found(api, alice, "deadline", limit=100))["items"]
    assert len(everything) == 31  # 30 messages and one title

    walked: list[dict] = []
    cursor = None
    while True:
        page = await found(api, alice, "deadline", limit=7, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 7
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    def key(hit: dict) -> tuple[str, str | None, str]:
        return hit["kind"], hit["message_id"], hit["conversation_id"]

    assert [key(hit) for hit in walked] == [key(hit) for hit in everything]
    assert len({key(hit) for hit in walked}) == 31


async def test_the_default_page_is_twenty_hits(api, caller, seed):
    alice = caller()
    await seed(alice.user_id, "", *(["Parrots talk."] * 21))

    page = await found(api, alice, "parrot")

    assert len(page["items"]) == 20
    assert page["next_cursor"] is not None
    rest = await found(api, alice, "parrot", cursor=page["next_cursor"])
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


# --- queries that find nothing, and hostile ones ---------------------------------------


@pytest.mark.parametrize("q", ["the", "the and of", "!!!", "   ", "-", '""', "-the", "::*&|"])
async def test_a_query_without_a_searchable_word_is_an_empty_page(api, caller, seed, q):
    alice = caller()
    await seed(alice.user_id, "The title", "The and of; all stop words!!!", "-")

    assert await found(api, alice, q) == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE messages; --",
        "run') OR 1=1 --",
        '"unclosed phrase',
        "a & b | !c <-> d:* (e",
        "\\x00 \\' $1 %s {}",
        "run\x01ning\x1b[31m\tfast\n",
        "Grüße ☃ 日本語 run",
        "or or or -or -- - -run",
    ],
)
async def test_hostile_text_is_searched_as_text_and_changes_nothing(api, caller, seed, q):
    alice = caller()
    _, (run,) = await seed(alice.user_id, "", "I run fast")

    answer = await api.get(SEARCH, params={"q": q}, headers=alice.headers)

    assert answer.status_code == 200, answer.text
    assert message_ids(await found(api, alice, "run")) == [str(run)]


async def test_control_characters_separate_words_like_spaces(api, caller, seed):
    alice = caller()
    _, (message,) = await seed(alice.user_id, "", "Running fast")

    assert message_ids(await found(api, alice, "\x07running\x1f")) == [str(message)]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 201},
        {"q": ""},
        {"q": "run\x00"},
        {},
        {"q": "run", "limit": "0"},
        {"q": "run", "limit": "101"},
        {"q": "run", "limit": "ten"},
        {"q": "run", "archived": "maybe"},
        {"q": "run", "cursor": "not a cursor!"},
        {"q": "run", "cursor": "bm90IGpzb24"},
        {"q": "run", "cursor": encode_cursor([1e39, str(new_id())])},
        {"q": "run", "cursor": encode_cursor([-1.0, str(new_id())])},
        {"q": "run", "cursor": encode_cursor([0.5, "not-a-uuid"])},
        {"q": "run", "cursor": encode_cursor(["0.5", str(new_id())])},
        {"q": "run", "cursor": "x" * 600},
    ],
)
async def test_bad_parameters_are_a_400_problem(api, caller, params):
    alice = caller()

    answer = await api.get(SEARCH, params=params, headers=alice.headers)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_search_needs_a_token(api):
    answer = await api.get(SEARCH, params={"q": "run"})

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


# --- owner scoping and deletion --------------------------------------------------------


async def test_nobody_finds_anothers_titles_or_messages(api, caller, seed):
    alice, bob = caller(), caller()
    await seed(alice.user_id, "Secret roadmap", "The secret launch date is May.", "Keep the secret.")
    _, (bobs,) = await seed(bob.user_id, "", "My secret recipe")

    page = await found(api, bob, "secret", limit=100)

    assert [(hit["kind"], hit["message_id"]) for hit in page["items"]] == [("message", str(bobs))]
    assert len((await found(api, alice, "secret"))["items"]) == 3
    # a cursor is only a position: Alice's cursor shows Bob nothing of hers
    alices_first = await found(api, alice, "secret", limit=1)
    from_alices_cursor = await found(api, bob, "secret", cursor=alices_first["next_cursor"])
    assert all(
        hit["conversation_id"] != alices_first["items"][0]["conversation_id"]
        for hit in from_alices_cursor["items"]
    )


async def test_a_deleted_conversations_title_and_messages_are_no_longer_found(
    api, caller, seed, service_engine
):
    alice = caller()
    gone, _ = await seed(alice.user_id, "Tax return", "My tax return is due", "File the tax forms")
    _, (kept,) = await seed(alice.user_id, "", "Tax questions for later")
    assert len((await found(api, alice, "tax"))["items"]) == 4

    async with service_engine.begin() as conn:
        await conn.execute(conversations.delete().where(conversations.c.id == gone))

    assert [(hit["kind"], hit["message_id"]) for hit in (await found(api, alice, "tax"))["items"]] == [
        ("message", str(kept))
    ]


async def test_a_renamed_title_and_an_edited_content_are_found_by_their_new_words(
    api, caller, seed, service_engine
):
    alice = caller()
    conversation_id, (message,) = await seed(alice.user_id, "Groceries", "Buy apples")
    async with service_engine.begin() as conn:
        await conn.execute(
            conversations.update().where(conversations.c.id == conversation_id).values(title="Shopping list")
        )
        await conn.execute(messages.update().where(messages.c.id == message).values(content="Buy pears"))

    assert (await found(api, alice, "groceries"))["items"] == []
    assert (await found(api, alice, "apples"))["items"] == []
    assert [hit["kind"] for hit in (await found(api, alice, "shopping"))["items"]] == ["title"]
    assert message_ids(await found(api, alice, "pears")) == [str(message)]


async def test_conversations_written_through_the_api_are_found_at_once_and_gone_once_deleted(
    api, caller, seed
):
    alice = caller()
    created = await api.post(
        "/api/v1/conversations", json={"title": "Holiday itinerary"}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]
    assert [hit["conversation_id"] for hit in (await found(api, alice, "itinerary"))["items"]] == [
        conversation_id
    ]

    renamed = await api.patch(
        f"/api/v1/conversations/{conversation_id}", json={"title": "Trip budget"}, headers=alice.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert (await found(api, alice, "itinerary"))["items"] == []
    assert [hit["snippet"] for hit in (await found(api, alice, "budget"))["items"]] == [
        f"Trip {marked('budget')}"
    ]

    deleted = await api.delete(f"/api/v1/conversations/{conversation_id}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await found(api, alice, "budget"))["items"] == []


async def test_a_seeded_conversation_deleted_through_the_api_takes_its_messages_out_of_the_results(
    api, caller, seed
):
    alice = caller()
    gone, _ = await seed(alice.user_id, "", "Pack the umbrella", "And the raincoat")

    deleted = await api.delete(f"/api/v1/conversations/{gone}", headers=alice.headers)

    assert deleted.status_code == 204, deleted.text
    assert (await found(api, alice, "umbrella or raincoat"))["items"] == []


async def test_an_erased_user_has_nothing_left_to_find(api, caller, seed, uow):
    alice, bob = caller(), caller()
    await seed(alice.user_id, "Diary", "Dear diary, today I searched.")
    await seed(bob.user_id, "Diary", "Bob's diary")

    async with uow() as work:
        await erase_users_data(work, alice.user_id)
        await work.commit()

    assert (await found(api, alice, "diary"))["items"] == []
    assert len((await found(api, bob, "diary"))["items"]) == 2


@pytest.mark.parametrize("raw", ["q=%FF%FE", "q=%ED%A0%80", "q=run&q=fast", "q=%25%27%22", "q=run&limit=1e3"])
async def test_a_query_string_that_is_no_proper_text_is_a_4xx_or_a_search_never_a_500(api, caller, raw):
    alice = caller()

    answer = await api.get(f"{SEARCH}?{raw}", headers=alice.headers)

    assert answer.status_code in (200, 400), answer.text
