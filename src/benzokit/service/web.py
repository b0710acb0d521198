"""The web edge: who is asking (session cookie), CSRF, body limits and security headers.

Sessions are server-side (``sessions`` table, kept by the sign-in use cases,
:mod:`benzokit.service.signin`); the cookie holds a random token, HttpOnly and SameSite=Strict. Every
state-changing request carries the session's CSRF token, as the ``csrf_token`` form field (pages) or the
``X-CSRF-Token`` header (API). Errors become responses in :mod:`benzokit.service.handlers`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from benzokit.errors import BenzokitError
from benzokit.service.clinic import Clinic
from benzokit.service.settings import ServiceSettings
from benzokit.store.accounts import Account

SESSION_COOKIE = "benzokit_session"
CSRF_HEADER = "x-csrf-token"


class SignInRequiredError(BenzokitError):
    """Not signed in (HTTP 401; pages redirect to the sign-in page)."""


class CsrfError(BenzokitError):
    """A state-changing request without this session's CSRF token (HTTP 403)."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in account of a request and its session's CSRF token."""

    account: Account
    csrf_token: str
    token: str


def clinic_of(request: Request) -> Clinic:
    clinic: Clinic = request.app.state.clinic
    return clinic


def settings_of(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def find_visitor(request: Request) -> Visitor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = clinic_of(request).signin.session(token)
    return None if found is None else Visitor(found.account, found.csrf_token, token)


def require_visitor(request: Request) -> Visitor:
    visitor = find_visitor(request)
    if visitor is None:
        raise SignInRequiredError("sign in first")
    return visitor


def check_csrf(visitor: Visitor, supplied: str | None) -> None:
    if not supplied or not hmac.compare_digest(supplied, visitor.csrf_token):
        raise CsrfError(
            "the form has expired or did not come from this site: reload the page and try again"
        )


def set_session_cookie(response: Response, token: str, settings: ServiceSettings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )


def _record_named(request: Request) -> str:
    """The record the refused request asked for (in words: it may not exist)."""
    for key in ("patient_id", "alert_id"):
        if key in request.path_params:
            return f"; asked for {key.removesuffix('_id')} {request.path_params[key]}"
    return ""


def audit_refusal(request: Request, status: int) -> None:
    """A refused request goes to the audit log too (who, what, the answer)."""
    visitor = find_visitor(request)
    clinic_of(request).audit_log.refusal(
        visitor.account if visitor else None,
        f"{request.method} {request.url.path}",
        f"answered {status}" + _record_named(request),
    )


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, announced (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        messages, seen = [], 0
        while True:  # the body is small (at most max_bytes): read it whole, then hand it on
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Any:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {
            "error": {
                "message": f"the request is larger than {self.max_bytes} bytes",
                "field": "body",
                "allowed": f"at most {self.max_bytes} bytes",
            }
        }
        await JSONResponse(body, status_code=413)(scope, receive, send)


PAGE_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)  # inline styles only for the charts' SVG attributes; the pages run no script at all


class SecurityHeaders:
    """Headers on every response: no framing, no sniffing, no caching of patient data, and a
    content policy for the pages (the interactive API docs load their own assets and keep theirs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                if not path.startswith("/api/docs"):
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
