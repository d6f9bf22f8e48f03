"""``/reset-password`` and ``/verify-email``: the small pages the mailed links open.

Server-rendered HTML forms that post back here (a form cannot send JSON) and call the same
use cases as the API. Nothing loads from anywhere: the style and the one script are inline,
allowed by their hashes in a strict CSP, and the forms post only to this origin.

The token travels in the link's fragment (``application.mail``: no server, log or
``Referer`` ever sees it). The script copies it into the form and hides that field; without
JavaScript the field stays visible, and the code can be pasted from the address bar. An app
that wants its own pages sets ``IDENTITY_LINK_BASE_URL`` and posts to the API instead.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape
from typing import Annotated, Final

from litestar import Controller, Response, get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body

from identity.application.email_verification import VerifyEmail
from identity.application.password_reset import ResetPassword
from identity.application.use_cases import Handler
from identity.domain.passwords import MAX_LENGTH, MIN_LENGTH
from identity.entrypoints.http.dependencies import ClientDep, Dep, UnitOfWorkDep
from shared.kernel.errors import InvalidInput

STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}label,input,button{display:block;width:100%;box-sizing:border-box}"
    "input{margin:.25rem 0 1rem;padding:.5rem;font:inherit}button{padding:.6rem;font:inherit;cursor:pointer}"
    ".error{color:#a00000;font-weight:600}"
)
# Moves the token from the fragment into the form, hides the field, and takes the token out of
# the address bar (and so out of the history and of anything copied from it).
SCRIPT: Final = (
    "(function(){var m=/[#&]token=([^&]+)/.exec(location.hash),f=document.getElementById('token');"
    "if(m&&f){f.value=decodeURIComponent(m[1]);document.getElementById('token-field').hidden=true;"
    "history.replaceState(null,'',location.pathname);}})();"
)


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP: Final = (
    f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",  # a form may hold the token
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
CODE_LABEL: Final = "Code from the link (what follows <code>#token=</code>)"


@dataclass
class ResetForm:
    token: str = ""
    new_password: str = ""


@dataclass
class VerifyForm:
    token: str = ""


def page(title: str, body: str, *, status: int = 200) -> Response[str]:
    document = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · aiorch</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
    return Response(document, status_code=status, media_type=MediaType.HTML, headers=PAGE_HEADERS)


def _token_field(token: str) -> str:
    return (
        f'<p id="token-field"><label for="token">{CODE_LABEL}</label>'
        f'<input id="token" name="token" autocomplete="off" required value="{escape(token)}"></p>'
    )


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>\n' if message else ""


def reset_form(token: str = "", error: str | None = None, *, status: int = 200) -> Response[str]:
    body = (
        f"{_error(error)}<p>Choose a new password for your aiorch account. "
        "Setting it signs you out everywhere.</p>\n"
        '<form method="post" action="reset-password">\n'
        f"{_token_field(token)}\n"
        '<label for="new_password">New password</label>'
        '<input id="new_password" name="new_password" type="password" autocomplete="new-password" '
        f'minlength="{MIN_LENGTH}" maxlength="{MAX_LENGTH}" required>\n'
        '<button type="submit">Set the new password</button>\n</form>'
    )
    return page("Choose a new password", body, status=status)


def verify_form(token: str = "", error: str | None = None, *, status: int = 200) -> Response[str]:
    body = (
        f"{_error(error)}<p>Confirm that this address belongs to your aiorch account.</p>\n"
        '<form method="post" action="verify-email">\n'
        f"{_token_field(token)}\n"
        '<button type="submit">Confirm my address</button>\n</form>'
    )
    return page("Confirm your email address", body, status=status)


class LinkPagesController(Controller):
    """The pages of the mailed links; HTML for people, so not part of the API's schema."""

    path = "/"
    include_in_schema = False

    @get("/reset-password", sync_to_thread=False)
    def reset_password_page(self) -> Response[str]:
        return reset_form()

    @post("/reset-password", status_code=200)
    async def reset_password_submit(
        self,
        data: Annotated[ResetForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        uow: UnitOfWorkDep,
        reset_password: Dep[Handler[ResetPassword, None]],
        client_info: ClientDep,
    ) -> Response[str]:
        command = ResetPassword(token=data.token.strip(), new_password=data.new_password, client=client_info)
        try:
            await reset_password(command, uow)
        except InvalidInput as exc:
            # the token is kept for another try after a weak password; it was not spent
            return reset_form(data.token, str(exc), status=400)
        return page(
            "Your password is set",
            "<p>Every session of your account was signed out. Sign in again with the new password.</p>",
        )

    @get("/verify-email", sync_to_thread=False)
    def verify_email_page(self) -> Response[str]:
        return verify_form()

    @post("/verify-email", status_code=200)
    async def verify_email_submit(
        self,
        data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        uow: UnitOfWorkDep,
        verify_email: Dep[Handler[VerifyEmail, None]],
        client_info: ClientDep,
    ) -> Response[str]:
        try:
            await verify_email(VerifyEmail(token=data.token.strip(), client=client_info), uow)
        except InvalidInput as exc:
            return verify_form(data.token, str(exc), status=400)
        return page("Your address is confirmed", "<p>Thank you: your email address is verified.</p>")
