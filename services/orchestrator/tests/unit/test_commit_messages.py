"""Generating a commit message: valid on the first answer, retried once when invalid, else a ModelError."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from orchestrator.adapters.ai.offline_answers import WRITERS
from orchestrator.application.commit_messages import GenerateCommitMessage, generate_commit_message
from orchestrator.application.ports import ResolvedModel
from orchestrator.application.ports.commits import TaskRef
from shared.ai.offline import OfflineModel
from shared.kernel.ai import ChatChunk, ChatCompletion, ChatRequest, ModelError
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id

OWNER = new_id()
TASK = new_id()


class FakeTaskLinks:
    def __init__(self, tasks: dict[UUID, TaskRef]) -> None:
        self._tasks = tasks

    async def find(self, task_id: UUID, owner_id: UUID) -> TaskRef | None:
        return self._tasks.get(task_id) if owner_id == OWNER else None

    async def project_of(self, task_id: UUID, owner_id: UUID) -> UUID | None:
        found = await self.find(task_id, owner_id)
        return None if found is None else found.project_id


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.task_links = FakeTaskLinks({TASK: TaskRef(project_id=new_id(), title="Fix the cart totals")})

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class ScriptedModel:
    """Answers the scripted texts in turn; remembers the requests."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        yield ChatChunk(delta=(await self.complete(request)).content, finish_reason="stop")

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        self.requests.append(request)
        return ChatCompletion(content=self.answers.pop(0), finish_reason="stop")


class FakeCatalog:
    def __init__(self, model: object) -> None:
        self.model = model

    async def resolve(self, model_id: UUID | None = None) -> ResolvedModel:
        return ResolvedModel(id=None, name="scripted", provider="offline", model=self.model)  # type: ignore[arg-type]


def answer(**fields: object) -> str:
    base = {
        "type": "fix",
        "scope": "cart",
        "subject": "round totals",
        "body": None,
        "breaking": None,
        "footers": [],
    }
    return json.dumps({**base, **fields})


def command(**extra: object) -> GenerateCommitMessage:
    return GenerateCommitMessage(
        owner_id=OWNER, task_id=TASK, diff_summary="src/cart/total.py | 4 +-", **extra
    )  # type: ignore[arg-type]


async def test_a_valid_first_answer_is_the_message():
    model = ScriptedModel(answer(footers=[{"token": "Refs", "value": "#12"}]))
    generated = await generate_commit_message(command(), FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]
    assert generated.message == "fix(cart): round totals\n\nRefs: #12"
    assert generated.attempts == 1
    assert "Fix the cart totals" in model.requests[0].messages[-1].content


async def test_an_invalid_answer_is_retried_once_with_the_violations_told():
    model = ScriptedModel(answer(subject="Round totals."), answer())
    generated = await generate_commit_message(command(), FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]
    assert generated.attempts == 2
    retry = model.requests[1].messages[-1].content
    assert "subject-case" in retry
    assert "subject-full-stop" in retry


async def test_an_answer_that_is_not_json_counts_as_invalid():
    model = ScriptedModel("not json", answer())
    generated = await generate_commit_message(command(), FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]
    assert generated.attempts == 2


async def test_two_invalid_answers_are_a_model_error_naming_the_rules():
    model = ScriptedModel(answer(type="feature"), answer(type="feature"))
    with pytest.raises(ModelError, match="type-enum"):
        await generate_commit_message(command(), FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]


async def test_a_breaking_answer_gets_the_bang_and_the_footer():
    model = ScriptedModel(answer(type="feat", subject="drop v0 totals", breaking="totals are integers now"))
    generated = await generate_commit_message(command(), FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]
    assert generated.message == "feat(cart)!: drop v0 totals\n\nBREAKING CHANGE: totals are integers now"
    assert generated.checked.parsed.breaking


async def test_another_owners_task_is_not_found_and_the_model_is_not_called():
    model = ScriptedModel()
    cmd = GenerateCommitMessage(owner_id=new_id(), task_id=TASK, diff_summary="x")
    with pytest.raises(NotFound):
        await generate_commit_message(cmd, FakeUnitOfWork(), FakeCatalog(model))  # type: ignore[arg-type]
    assert model.requests == []


@pytest.mark.parametrize(
    ("title", "diff"),
    [
        ("Add the login page", "src/auth/login.py | 40 +++"),
        ("FIX CRASH ON EMPTY CART.", "cart/checkout.py"),
        ("Document the API", ""),
        ("x" * 300, "a/" + "b" * 200 + ".py"),
        ("", "tests/test_cart.py | 10 ++"),
        ("Refactor `Money` into its own module!", "money.py"),
    ],
)
async def test_the_offline_writer_always_writes_a_valid_message(title, diff):
    uow = FakeUnitOfWork()
    uow.task_links = FakeTaskLinks({TASK: TaskRef(project_id=new_id(), title=title)})
    catalog = FakeCatalog(OfflineModel(writers=WRITERS))
    generated = await generate_commit_message(
        GenerateCommitMessage(owner_id=OWNER, task_id=TASK, diff_summary=diff or "nothing"),
        uow,
        catalog,  # type: ignore[arg-type]
    )
    assert generated.checked.valid
    assert generated.attempts == 1
