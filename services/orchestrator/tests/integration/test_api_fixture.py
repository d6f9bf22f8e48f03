"""The orchestrator's API fixtures answer as a deployed orchestrator does."""


async def test_a_minted_token_reaches_the_api_as_its_user(api, caller):
    alice = caller()
    answer = await api.get("/api/v1/whoami", headers=alice.headers)
    assert answer.status_code == 200
    assert answer.json()["user_id"] == str(alice.user_id)
