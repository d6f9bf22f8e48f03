"""The file-system blob store: content-addressed per owner, written atomically, private, and
never led outside its root by an address."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chat.adapters.blobs.filesystem import STAGING, FilesystemBlobStore
from chat.application.ports.attachments import BlobMissing, BlobTooLarge
from shared.kernel.ids import new_id


@pytest.fixture
def store(tmp_path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_blob_lives_under_its_owner_and_its_sha256(store, tmp_path):
    owner_id = new_id()
    data = b"hello blob"
    sha = await store.put(owner_id, data)

    assert sha == hashlib.sha256(data).hexdigest()
    path = tmp_path / "blobs" / str(owner_id) / sha[:2] / sha
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await store.read(owner_id, sha) == data
    assert b"".join([chunk async for chunk in store.open(owner_id, sha, chunk_bytes=3)]) == data
    assert await store.exists(owner_id, sha)
    assert not await store.exists(new_id(), sha)  # another owner's part has nothing of it


async def test_staged_bytes_are_hashed_on_the_way_and_only_kept_when_asked(store, tmp_path):
    owner_id = new_id()
    staged = await store.stage(chunks(b"ab", b"cd" * 600_000), max_bytes=2_000_000)

    assert staged.size_bytes == 1_200_002
    assert staged.sha256 == hashlib.sha256(b"ab" + b"cd" * 600_000).hexdigest()
    with staged.open() as file:
        assert file.read(4) == b"abcd"
    assert not await store.exists(owner_id, staged.sha256)

    await store.keep(owner_id, staged)
    await store.discard(staged)  # after keep: nothing left to drop
    assert await store.exists(owner_id, staged.sha256)
    assert list((tmp_path / "blobs" / STAGING).iterdir()) == []


async def test_staging_stops_past_its_limit_and_keeps_nothing(store, tmp_path):
    with pytest.raises(BlobTooLarge):
        await store.stage(chunks(b"x" * 10, b"y" * 10), max_bytes=15)

    assert list((tmp_path / "blobs" / STAGING).iterdir()) == []


async def test_putting_the_same_bytes_twice_keeps_one_blob(store):
    owner_id = new_id()
    assert await store.put(owner_id, b"same") == await store.put(owner_id, b"same")
    assert len(await store.stored(owner_id)) == 1


@pytest.mark.parametrize("address", ["../../etc/passwd", "a" * 63, "A" * 64, "0" * 64 + "/..", ""])
async def test_an_address_that_is_not_a_sha256_leads_nowhere(store, address):
    owner_id = new_id()
    with pytest.raises(BlobMissing):
        await store.read(owner_id, address)
    assert not await store.exists(owner_id, address)
    with pytest.raises(BlobMissing):
        await store.delete(owner_id, address)


async def test_deleting_one_blob_or_an_owners_part(store, tmp_path):
    owner_id, other_id = new_id(), new_id()
    first, second = await store.put(owner_id, b"one"), await store.put(owner_id, b"two")
    theirs = await store.put(other_id, b"one")

    assert await store.delete(owner_id, first)
    assert not await store.delete(owner_id, first)
    assert [blob.sha256 for blob in await store.stored(owner_id)] == [second]

    await store.delete_owner(owner_id)
    await store.delete_owner(owner_id)  # nothing left: nothing happens
    assert not (tmp_path / "blobs" / str(owner_id)).exists()
    assert await store.owners() == [other_id]
    assert await store.read(other_id, theirs) == b"one"


async def test_staged_bytes_an_upload_left_behind_are_dropped_once_stale(store, tmp_path):
    left = await store.stage(chunks(b"abandoned"), max_bytes=100)
    fresh = await store.stage(chunks(b"in flight"), max_bytes=100)
    old = (datetime.now(UTC) - timedelta(hours=2)).timestamp()
    os.utime(tmp_path / "blobs" / STAGING / left.token, (old, old))

    assert await store.drop_stale_staging(datetime.now(UTC) - timedelta(hours=1)) == 1
    assert [p.name for p in (tmp_path / "blobs" / STAGING).iterdir()] == [fresh.token]


async def test_the_store_and_each_owners_part_are_private(store, tmp_path):
    owner_id = new_id()
    await store.put(owner_id, b"private")

    for directory in (tmp_path / "blobs", tmp_path / "blobs" / str(owner_id)):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
