"""Speech to text through a provider's OpenAI-compatible ``POST /audio/transcriptions``.

For a chat model that takes no audio: a registry entry names a ``transcription_model`` (OpenAI's
``whisper-1``, a local whisper server's...) and the audio is turned into text at that provider,
with the entry's own base URL and key. Errors are the port's kinds, the key scrubbed, as for chat.
"""

from __future__ import annotations

import httpx
import msgspec

from shared.ai.provider_errors import Secret, status_error, transport_error
from shared.kernel.ai import ModelRequestRejected, Timeouts


class _Transcript(msgspec.Struct):
    text: str


_decode = msgspec.json.Decoder(_Transcript).decode


class OpenAICompatibleTranscriber:
    """A :class:`shared.kernel.ai.Transcriber` over one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self.model = model
        self._http = http
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._key = Secret(api_key)
        self._timeouts = timeouts

    def __repr__(self) -> str:
        return f"OpenAICompatibleTranscriber(url={self._url!r}, model={self.model!r}, api_key={self._key!r})"

    async def transcribe(self, audio: bytes, *, filename: str, media_type: str) -> str:
        headers = {"accept": "application/json"}
        if (key := self._key.reveal()) is not None:
            headers["authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(self._timeouts.total_s, connect=self._timeouts.connect_s)
        try:
            response = await self._http.post(
                self._url,
                data={"model": self.model, "response_format": "json"},
                files={"file": (filename, audio, media_type)},
                headers=headers,
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self._key) from None
        if response.status_code >= 400:
            raise status_error(response, response.content, self._key)
        try:
            return _decode(response.content).text
        except msgspec.DecodeError:
            raise ModelRequestRejected("the transcription provider answered no transcript") from None
