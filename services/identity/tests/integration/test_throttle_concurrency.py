"""The login throttle holds against concurrent guesses, on the real database.

Each guess spends a while on its password check (as argon2 does) while the others arrive;
the throttle must count the guesses still being checked, or twenty at once would all get
past a limit of five.
"""

import asyncio

from services.identity.tests.unit.fakes import FakeHasher, fake_identity

from identity.application.errors import InvalidCredentials, TooManyAttempts
from identity.application.login import LogIn
from identity.application.policy import Policy
from identity.domain.throttling import ThrottlePolicy


class SlowWrongHasher(FakeHasher):
    async def verify(self, hash: str, password: str, /) -> bool:
        await asyncio.sleep(0.05)
        return False

    async def verify_dummy(self, password: str, /) -> bool:
        await asyncio.sleep(0.05)
        return False


async def test_concurrent_wrong_guesses_cannot_slip_past_the_limit(new_uow):
    fakes = fake_identity(
        hasher=SlowWrongHasher(),
        policy=Policy(public_url="https://id.example", throttle=ThrottlePolicy(per_account=5)),
    )

    async def guess(n: int) -> str:
        try:
            await fakes.use.log_in(LogIn(email="ada@example.org", password=f"guess {n}"), new_uow())
        except (InvalidCredentials, TooManyAttempts) as refused:
            return type(refused).__name__
        return "logged in"

    outcomes = await asyncio.gather(*(guess(n) for n in range(20)))

    assert sorted(outcomes) == ["InvalidCredentials"] * 5 + ["TooManyAttempts"] * 15
