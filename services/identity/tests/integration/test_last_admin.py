"""One active admin always remains: the last one cannot be demoted, deactivated or erased by any
path (409), even when two admins demote or erase each other at the same moment."""

import asyncio
from uuid import UUID

import pytest
from services.identity.tests.integration.conftest import PASSWORD, bearer

from identity.application.admin import ChangeUser, DeleteUser, change_user, delete_user
from identity.application.admins import LastAdmin
from shared.kernel.clock import SystemClock

PROBLEM = "application/problem+json"


@pytest.fixture
async def two_admins(api) -> tuple[dict, dict]:
    await api.register("root@example.org")
    await api.register("grace@example.org")
    await api.sql("UPDATE users SET role = 'admin'")
    return await api.login("root@example.org"), await api.login("grace@example.org")


async def user_id(api, token: dict) -> UUID:
    return UUID((await api.client.get("/api/v1/users/me", headers=bearer(token))).json()["id"])


async def active_admins(api) -> int:
    ((count,),) = await api.sql("SELECT count(*) FROM users WHERE role = 'admin' AND is_active")
    return count


async def test_an_admin_demoted_by_another_leaves_the_other_unable_to_erase_itself(api, two_admins):
    root, grace = two_admins
    demoted = await api.client.patch(
        f"/api/v1/admin/users/{await user_id(api, grace)}", json={"role": "user"}, headers=bearer(root)
    )

    erased = await api.client.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=bearer(root)
    )

    assert demoted.status_code == 200
    assert erased.status_code == 409
    assert erased.headers["content-type"].startswith(PROBLEM)
    assert "last active admin" in erased.json()["detail"]
    assert await active_admins(api) == 1


async def test_the_last_active_admin_cannot_be_demoted_deactivated_or_erased_by_an_admin(api, two_admins):
    root, grace = two_admins
    grace_id = await user_id(api, grace)
    root_id = await user_id(api, root)
    # grace deactivated: root is the last active admin; an inactive admin does not count.
    assert (
        await api.client.patch(
            f"/api/v1/admin/users/{grace_id}", json={"is_active": False}, headers=bearer(root)
        )
    ).status_code == 200
    await api.sql("UPDATE users SET is_active = true WHERE id = :id", id=grace_id)
    grace = await api.login("grace@example.org")
    await api.sql("UPDATE users SET is_active = false WHERE id = :id", id=root_id)
    # Now grace is the last active admin; root (inactive, still an admin) cannot be the reason.
    answers = [
        await api.client.patch(f"/api/v1/admin/users/{grace_id}", json=change, headers=bearer(grace))
        for change in ({"role": "user"}, {"is_active": False})
    ]
    assert [a.status_code for a in answers] == [409, 409]  # herself: refused before anything

    await api.sql("UPDATE users SET is_active = true WHERE id = :id", id=root_id)
    root = await api.login("root@example.org")
    await api.sql("UPDATE users SET is_active = false WHERE id = :id", id=grace_id)
    for_root = [
        await api.client.patch(
            f"/api/v1/admin/users/{grace_id}", json={"role": "user"}, headers=bearer(root)
        ),
        await api.client.delete(f"/api/v1/admin/users/{grace_id}", headers=bearer(root)),
    ]
    # grace is inactive: demoting or erasing her leaves root, the active admin.
    assert [a.status_code for a in for_root] == [200, 204]
    assert await active_admins(api) == 1


async def test_an_admin_erasing_the_only_other_active_admin_is_refused_once_alone(new_uow, api, two_admins):
    root, grace = two_admins
    root_id, grace_id = await user_id(api, root), await user_id(api, grace)
    await api.sql("UPDATE users SET is_active = false WHERE id = :id", id=root_id)

    # root's token no longer works; the use case itself still refuses to erase the last active admin.
    with pytest.raises(LastAdmin):
        await delete_user(DeleteUser(actor_id=root_id, user_id=grace_id), new_uow(), clock=SystemClock())
    assert await active_admins(api) == 1


@pytest.mark.parametrize("how", ["demote", "deactivate", "erase"])
async def test_two_admins_removing_each_other_at_once_never_leave_zero(new_uow, api, two_admins, how):
    root, grace = two_admins
    ids = [await user_id(api, root), await user_id(api, grace)]

    async def remove(actor, target):
        if how == "erase":
            return await delete_user(
                DeleteUser(actor_id=actor, user_id=target), new_uow(), clock=SystemClock()
            )
        change = {"role": "user"} if how == "demote" else {"is_active": False}
        return await change_user(
            ChangeUser(actor_id=actor, user_id=target, **change), new_uow(), clock=SystemClock()
        )

    for _ in range(5):
        outcomes = await asyncio.gather(
            remove(ids[0], ids[1]), remove(ids[1], ids[0]), return_exceptions=True
        )

        refused = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(refused) == 1, outcomes
        assert isinstance(refused[0], LastAdmin)
        assert await active_admins(api) == 1
        if how == "erase":
            return  # one account is gone: nothing to repeat with
        await api.sql("UPDATE users SET role = 'admin', is_active = true")
