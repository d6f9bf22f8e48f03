"""The upload's ``multipart/form-data`` body, read as it arrives: the ``file`` part's bytes go
straight on to the blob store (no whole copy in memory or in a temporary file first), so the
limits the use case applies (the settings', whatever they are) stop the reading as soon as
they are passed. The form has that one part: any other is refused, naming it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from multipart import (  # type: ignore[import-untyped]  # ships no type hints
    MultipartError,
    MultipartSegment,
    PushMultipartParser,
    parse_options_header,
)

FIELD: Final = "file"
MAX_HEADER_BYTES: Final = 8192

Event: TypeAlias = Any
"""What the parser finds: a part's headers (``MultipartSegment``), a piece of its body (bytes),
or its end (``None``)."""


class UnsupportedBody(HTTPException):
    status_code = 415


def _refuse(segment: Any) -> ClientException:
    if segment.name == FIELD:
        return ClientException(detail="An upload carries one file, in one `file` part.")
    return ClientException(
        detail=f"The form has an unknown part `{segment.name[:100]}`; only `file` is read."
    )


async def _events(body: AsyncIterator[bytes], parser: Any) -> AsyncIterator[Event]:
    try:
        async for chunk in body:
            for event in parser.parse(chunk):
                yield event
        for event in parser.parse(b""):  # the end of the body
            yield event
    except MultipartError:
        raise ClientException(detail="The multipart/form-data body is malformed or ends early.") from None


class UploadedFile:
    """The ``file`` part of an upload request, its headers read (:meth:`of`), its bytes to come."""

    def __init__(self, events: AsyncIterator[Event], filename: str) -> None:
        self._events = events
        self.filename = filename

    @classmethod
    async def of(cls, request: Request[Any, Any, Any]) -> UploadedFile:
        """Read up to the ``file`` part's headers: 415 if the body is not ``multipart/form-data``;
        400 if it is malformed, has another part first, no ``file`` part or one without a file name."""
        media_type, options = parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get("boundary", "")
        if media_type != "multipart/form-data" or not boundary:
            raise UnsupportedBody(detail="The upload must be multipart/form-data with a `file` part.")
        try:
            parser = PushMultipartParser(boundary, max_header_size=MAX_HEADER_BYTES)
        except (MultipartError, ValueError):
            raise ClientException(detail="The multipart boundary is not valid.") from None
        events = _events(request.stream(), parser)
        async for event in events:
            if isinstance(event, MultipartSegment):
                if event.name != FIELD:
                    raise _refuse(event)
                if not event.filename:
                    raise ClientException(detail="The `file` part must be a file (with a filename).")
                return cls(events, event.filename)
        raise ClientException(detail="The form has no `file` part.")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; then the end of the body, where any further part is
        refused (400)."""
        async for event in self._events:
            if event is None:
                break
            if isinstance(event, bytes) and event:
                yield event
        else:
            raise ClientException(detail="The multipart/form-data body ends inside the file.")
        async for event in self._events:
            if isinstance(event, MultipartSegment):
                raise _refuse(event)


@dataclass
class UploadOperation(Operation):
    """The upload's OpenAPI operation, with the body its handler reads from the stream itself."""

    def __post_init__(self) -> None:
        file = Schema(
            type=OpenAPIType.STRING,
            format="binary",  # type: ignore[arg-type]  # OpenAPI's "binary" is no OpenAPIFormat member
            content_media_type="application/octet-stream",
            description="The file, with a filename. Its content decides its type; its name is kept "
            "for display only.",
        )
        # additionalProperties: false, as any other part is refused (400). (A fuzzer's "extra
        # property" can be one its multipart encoding drops, a null, and arrive as a valid form:
        # the fuzz test's config says so for this operation.)
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={FIELD: file},
            required=[FIELD],
            additional_properties=False,
            description="One part, `file`; any other part is refused (400).",
        )
        self.request_body = RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True
        )
