"""The blob store on a file system: ``<root>/<owner id>/<aa>/<sha256>``, content-addressed per owner.

Bytes arrive in ``<root>/.staging/`` (a random name, mode 0600), are hashed on the way and
synced, then renamed into place: a reader never sees a half-written blob, and a crash leaves
only a staged file (dropped by the sweep). Paths are built from an owner's UUID and a
64-hex-digit address only, never from anything a client named. Every file operation runs in
a worker thread, off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO, Final
from uuid import UUID

from anyio import to_thread

from chat.application.ports.attachments import BlobMissing, BlobTooLarge, StagedBlob, StoredBlob

STAGING: Final = ".staging"
WRITE_BATCH: Final = 1 << 20
"""Bytes gathered from the request before one trip to a worker thread writes them."""
_ADDRESS = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _address(sha256: str) -> str:
    if not _ADDRESS.match(sha256):
        raise BlobMissing(f"not a blob address: {sha256[:80]!r}")
    return sha256


class FilesystemBlobStore:
    """:class:`~chat.application.ports.attachments.BlobStore` under ``root`` (created, mode 0700)."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()  # a later change of working directory moves nothing

    def _owner_dir(self, owner_id: UUID) -> Path:
        return self.root / str(owner_id)

    def _path(self, owner_id: UUID, sha256: str) -> Path:
        address = _address(sha256)
        return self._owner_dir(owner_id) / address[:2] / address

    def _staged_path(self, token: str) -> Path:
        if not _TOKEN.match(token):
            raise ValueError("not a staging token")
        return self.root / STAGING / token

    async def stage(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StagedBlob:
        token = secrets.token_hex(16)
        path = self._staged_path(token)
        file = await to_thread.run_sync(_create, path)
        digest = hashlib.sha256()
        size = 0
        batch = bytearray()
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(f"more than {max_bytes} bytes")
                batch += chunk
                if len(batch) >= WRITE_BATCH:
                    await to_thread.run_sync(_write, file, digest, bytes(batch))
                    batch.clear()
            await to_thread.run_sync(_write, file, digest, bytes(batch))
            await to_thread.run_sync(_sync_close, file)
        except BaseException:
            await to_thread.run_sync(_close_unlink, file, path)
            raise
        return StagedBlob(
            token=token, size_bytes=size, sha256=digest.hexdigest(), open=partial(_reader, path)
        )

    async def keep(self, owner_id: UUID, staged: StagedBlob) -> str:
        target = self._path(owner_id, staged.sha256)
        await to_thread.run_sync(_move_into_place, self._staged_path(staged.token), target)
        return staged.sha256

    async def discard(self, staged: StagedBlob) -> None:
        await to_thread.run_sync(partial(self._staged_path(staged.token).unlink, missing_ok=True))

    async def put(self, owner_id: UUID, data: bytes) -> str:
        async def one() -> AsyncIterator[bytes]:
            yield data

        staged = await self.stage(one(), max_bytes=len(data))
        try:
            return await self.keep(owner_id, staged)
        finally:
            await self.discard(staged)

    async def read(self, owner_id: UUID, sha256: str) -> bytes:
        try:
            return await to_thread.run_sync(self._path(owner_id, sha256).read_bytes)
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    async def open(self, owner_id: UUID, sha256: str, *, chunk_bytes: int = 65_536) -> AsyncIterator[bytes]:
        try:
            file = await to_thread.run_sync(_reader, self._path(owner_id, sha256))
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        try:
            while chunk := await to_thread.run_sync(file.read, chunk_bytes):
                yield chunk
        finally:
            await to_thread.run_sync(file.close)

    async def exists(self, owner_id: UUID, sha256: str) -> bool:
        try:
            path = self._path(owner_id, sha256)
        except BlobMissing:
            return False
        return await to_thread.run_sync(path.is_file)

    async def delete(self, owner_id: UUID, sha256: str) -> bool:
        return await to_thread.run_sync(_unlink, self._path(owner_id, sha256))

    async def delete_owner(self, owner_id: UUID) -> None:
        await to_thread.run_sync(_remove_tree, self._owner_dir(owner_id))

    async def owners(self) -> Sequence[UUID]:
        return await to_thread.run_sync(_owners, self.root)

    async def stored(self, owner_id: UUID) -> Sequence[StoredBlob]:
        return await to_thread.run_sync(_stored, self._owner_dir(owner_id))

    async def drop_stale_staging(self, older_than: datetime) -> int:
        return await to_thread.run_sync(_drop_older, self.root / STAGING, older_than.timestamp())


# -- blocking parts, run in worker threads ---------------------------------------------------


def _create(path: Path) -> BinaryIO:
    path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the root
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def _reader(path: Path) -> BinaryIO:
    return path.open("rb")


def _write(file: BinaryIO, digest: hashlib._Hash, data: bytes) -> None:
    if data:
        digest.update(data)
        file.write(data)


def _sync_close(file: BinaryIO) -> None:
    try:
        file.flush()
        os.fsync(file.fileno())
    finally:
        file.close()


def _close_unlink(file: BinaryIO, path: Path) -> None:
    with contextlib.suppress(OSError):
        file.close()
    path.unlink(missing_ok=True)


def _move_into_place(source: Path, target: Path) -> None:
    target.parent.parent.mkdir(mode=0o700, exist_ok=True)  # the owner's part
    target.parent.mkdir(mode=0o700, exist_ok=True)
    # the same bytes under the same address: replacing is harmless and renews its time
    os.replace(source, target)
    _sync_dir(target.parent)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty
    return True


def _remove_tree(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


def _owners(root: Path) -> list[UUID]:
    found: list[UUID] = []
    with contextlib.suppress(FileNotFoundError):
        for entry in root.iterdir():
            with contextlib.suppress(ValueError):
                if entry.is_dir():
                    found.append(UUID(entry.name))
    return found


def _stored(owner_dir: Path) -> list[StoredBlob]:
    found: list[StoredBlob] = []
    with contextlib.suppress(FileNotFoundError):
        for shard in owner_dir.iterdir():
            if not shard.is_dir():
                continue
            for blob in shard.iterdir():
                if _ADDRESS.match(blob.name) and blob.is_file():
                    modified = datetime.fromtimestamp(blob.stat().st_mtime, UTC)
                    found.append(StoredBlob(sha256=blob.name, modified_at=modified))
    return found


def _drop_older(staging: Path, cutoff: float) -> int:
    dropped = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in staging.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    dropped += 1
    return dropped
