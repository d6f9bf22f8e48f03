"""The generator and the reply channel as request-scoped dependencies, read from ``app.state``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from chat.application.generator import Generator
from chat.application.ports import UnitOfWork
from chat.application.ports.replies import ReplyChannel

GENERATOR: Final = "chat_generator"
REPLY_CHANNEL: Final = "chat_reply_channel"
UNITS_OF_WORK: Final = "chat_units_of_work"

GeneratorDep: TypeAlias = NamedDependency[SkipValidation[Generator]]
"""``generator``: the replies this API process writes (its background loops run in the lifespan)."""
ReplyChannelDep: TypeAlias = NamedDependency[SkipValidation[ReplyChannel]]
"""``replies``: reply frames between processes."""
UnitsOfWorkDep: TypeAlias = NamedDependency[SkipValidation[Callable[[], UnitOfWork]]]
"""``units``: a fresh unit of work per call, for streams that read more than once, concurrently."""


def _generator(state: State) -> Generator:
    generator: Generator = state[GENERATOR]
    return generator


def _channel(state: State) -> ReplyChannel:
    channel: ReplyChannel = state[REPLY_CHANNEL]
    return channel


def _units(state: State) -> Callable[[], UnitOfWork]:
    units: Callable[[], UnitOfWork] = state[UNITS_OF_WORK]
    return units


def reply_dependencies() -> Mapping[str, Provide]:
    return {
        "generator": Provide(_generator, sync_to_thread=False),
        "replies": Provide(_channel, sync_to_thread=False),
        "units": Provide(_units, sync_to_thread=False),
    }
