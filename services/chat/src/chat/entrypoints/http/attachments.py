"""``/attachments``: the caller's uploaded files (another user's is a 404 on every route)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, TypeAlias
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, SkipValidation
from litestar.response import Stream
from litestar.types import ExceptionHandlersMap

from chat.application import attachments as use_cases
from chat.application.ports.attachments import BlobStore, ContentSniffer
from chat.domain.attachments import AttachmentTooLarge, UnsupportedMediaType
from chat.entrypoints.http.attachment_schemas import (
    MAX_UPLOAD_BODY_BYTES,
    AttachmentResponse,
    content_disposition,
)
from chat.entrypoints.http.attachment_upload import UploadedFile, UploadOperation
from chat.entrypoints.http.dependencies import UnitOfWorkDep
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.parameters import Cursor, Limit
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.problems import Problem, problem_response
from shared.kernel.clock import SystemClock
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, encode_cursor

BLOBS: Final = "chat_blobs"
"""``app.state`` key of the :class:`BlobStore` the bootstrap's resources open."""
SNIFFER: Final = "chat_sniffer"
"""``app.state`` key of the :class:`ContentSniffer`."""

BlobsDep: TypeAlias = NamedDependency[SkipValidation[BlobStore]]
"""``blobs``: where attachments' bytes are kept (provided by the bootstrap)."""
SnifferDep: TypeAlias = NamedDependency[SkipValidation[ContentSniffer]]
"""``sniffer``: tells what uploaded bytes are (provided by the bootstrap)."""

DOWNLOAD: Final = ResponseSpec(
    data_container=bytes,
    media_type="*/*",
    generate_examples=False,
    description="The attachment's bytes; `Content-Type` is its sniffed media type (image/png, image/jpeg, "
    "image/webp, image/gif, audio/mpeg, audio/wav, audio/ogg, audio/webm, text/plain or application/pdf).",
)

AttachmentId = Annotated[UUID, PathParameter(description="One of my attachments, by its `id`.")]


def _provide_blobs(state: State) -> BlobStore:
    blobs: BlobStore = state[BLOBS]
    return blobs


def _provide_sniffer(state: State) -> ContentSniffer:
    sniffer: ContentSniffer = state[SNIFFER]
    return sniffer


def attachment_dependencies() -> Mapping[str, Provide]:
    return {
        "blobs": Provide(_provide_blobs, sync_to_thread=False),
        "sniffer": Provide(_provide_sniffer, sync_to_thread=False),
    }


def _too_large(request: Request[Any, Any, Any], exc: AttachmentTooLarge) -> Response[Problem]:
    return problem_response(request, 413, exc.detail, title=exc.title)


def _unsupported(request: Request[Any, Any, Any], exc: UnsupportedMediaType) -> Response[Problem]:
    return problem_response(request, 415, exc.detail, title=exc.title)


ATTACHMENT_PROBLEMS: Final[ExceptionHandlersMap] = {
    AttachmentTooLarge: _too_large,
    UnsupportedMediaType: _unsupported,
}
"""413 and 415 for the upload's refusals (the shared mapping would answer 400)."""


class AttachmentsController(Controller):
    path = "/api/v1/attachments"
    tags = ["attachments"]
    security = BEARER_SECURITY
    exception_handlers = ATTACHMENT_PROBLEMS

    @post(
        "/",
        operation_id="upload_attachment",
        summary="Upload a file",
        responses=problems(400, 401, 413, 415),
        request_max_body_size=MAX_UPLOAD_BODY_BYTES,
        operation_class=UploadOperation,
        status_code=201,
    )
    async def upload_attachment(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        blobs: BlobsDep,
        sniffer: SnifferDep,
    ) -> AttachmentResponse:
        """Keeps a file (`multipart/form-data`, part `file`) as a new attachment of mine, not yet
        attached to a message. Its content decides its type: an image (png, jpeg, webp, gif),
        audio (mp3, wav, ogg, webm), UTF-8 text or a PDF, well-formed; anything else is a 415
        and nothing is kept. 413 past the limit of its kind (`chat.attachments.max_image_bytes`,
        `max_audio_bytes`, `max_document_bytes` for text and PDF) or past my total
        (`max_bytes_per_user`), found while the file arrives; 400 for an empty file, no `file`
        part, or a second file. The file name is kept for display only."""
        uploaded = await UploadedFile.of(request)
        command = use_cases.UploadAttachment(
            owner_id=principal.user_id, filename=uploaded.filename, chunks=uploaded.chunks()
        )
        return AttachmentResponse.of(
            await use_cases.upload_attachment(command, uow, blobs, sniffer, SystemClock())
        )

    @get("/", operation_id="list_attachments", summary="My attachments", responses=problems(400, 401))
    async def list_attachments(
        self, principal: CurrentPrincipal, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = None
    ) -> Page[AttachmentResponse]:
        """My attachments, newest first, attached or not: one page, with the cursor of the next
        (`null` on the last)."""
        size = clamp_limit(limit)
        before_id = None if cursor is None else decode_cursor(cursor, UUID)
        found = await use_cases.list_attachments(principal.user_id, uow, before_id=before_id, limit=size + 1)
        items = [AttachmentResponse.of(attachment) for attachment in found[:size]]
        next_cursor = encode_cursor(items[-1].id) if len(found) > size else None
        return Page(items=items, next_cursor=next_cursor)

    @get(
        "/{attachment_id:uuid}",
        operation_id="get_attachment",
        summary="One of my attachments",
        responses=problems(400, 401, 404),
    )
    async def get_attachment(
        self, attachment_id: AttachmentId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> AttachmentResponse:
        """What the attachment is (not its content: see `download_attachment`)."""
        return AttachmentResponse.of(await use_cases.get_attachment(principal.user_id, attachment_id, uow))

    @get(
        "/{attachment_id:uuid}/content",
        operation_id="download_attachment",
        summary="Download one of my attachments",
        responses={200: DOWNLOAD, **problems(400, 401, 404)},
    )
    async def download_attachment(
        self, attachment_id: AttachmentId, principal: CurrentPrincipal, uow: UnitOfWorkDep, blobs: BlobsDep
    ) -> Stream:
        """The attachment's bytes, as a download: `Content-Type` is its sniffed media type,
        `Content-Disposition: attachment` with its name, `X-Content-Type-Options: nosniff`."""
        attachment, chunks = await use_cases.open_attachment(principal.user_id, attachment_id, uow, blobs)
        # X-Content-Type-Options: nosniff is on every answer already (shared.http.security_headers)
        return Stream(
            chunks,
            headers={
                "content-type": attachment.media_type,
                "Content-Disposition": content_disposition(attachment.filename),
                "Content-Length": str(attachment.size_bytes),
                "Cache-Control": "private, no-store",
            },
        )

    @delete(
        "/{attachment_id:uuid}",
        operation_id="delete_attachment",
        summary="Delete one of my attachments",
        responses=problems(400, 401, 404),
        status_code=204,
    )
    async def delete_attachment(
        self, attachment_id: AttachmentId, principal: CurrentPrincipal, uow: UnitOfWorkDep, blobs: BlobsDep
    ) -> None:
        """Deletes the attachment, attached to a message or not (the message keeps its text), and
        its stored file unless another attachment of mine has the same content."""
        await use_cases.delete_attachment(principal.user_id, attachment_id, uow, blobs)
