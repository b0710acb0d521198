"""The web edge: session cookies, CSRF, login rate limiting, body limits, and errors as clear 4xx.

Sessions are server-side (``sessions`` table); the cookie holds a random token, HttpOnly and
SameSite=Strict. Every state-changing request carries the session's CSRF token, as the ``csrf_token``
form field (pages) or the ``X-CSRF-Token`` header (API). Errors never show a traceback: an
:class:`InputError` becomes 422 naming the field, what was given and what is allowed.
"""

from __future__ import annotations

import hmac
import logging
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from benzokit.errors import BenzokitError, InputError
from benzokit.service.access import AccessError
from benzokit.service.clinic import Clinic
from benzokit.service.settings import ServiceSettings
from benzokit.store import accounts, records
from benzokit.store.accounts import Account, LoginSession

SESSION_COOKIE = "benzokit_session"
CSRF_HEADER = "x-csrf-token"


class SignInRequiredError(BenzokitError):
    """Not signed in (HTTP 401; pages redirect to the sign-in page)."""


class CsrfError(BenzokitError):
    """A state-changing request without this session's CSRF token (HTTP 403)."""


class RateLimitError(BenzokitError):
    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        minutes = math.ceil(retry_after_s / 60)
        super().__init__(f"too many failed sign-ins; try again in {minutes} minutes")


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
    clinic = clinic_of(request)
    with clinic.db.transaction() as session:
        found: LoginSession | None = accounts.find_session(session, token, clinic.now())
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


def sign_in(request: Request, username: str, password: str) -> tuple[Account, str, str]:
    """Check the password under the rate limit; returns (account, session token, CSRF token)."""
    clinic, settings = clinic_of(request), settings_of(request)
    client, now = client_of(request), clinic.now()
    with clinic.db.transaction() as session:
        failures = accounts.recent_failures(session, username, client, now - settings.login_window)
    if (
        failures.by_username >= settings.login_failures_allowed
        or failures.by_client >= settings.login_failures_per_client
    ):
        raise RateLimitError(int(settings.login_window.total_seconds()))
    with clinic.db.transaction() as session:
        account = accounts.verify_password(session, username, password)
        accounts.record_attempt(session, username, client, now, account is not None)
        if account is not None:
            token, csrf = accounts.open_session(session, account, now, settings.session_lifetime)
    if account is None:  # raised after the failed attempt is committed: the limit counts it
        raise InputError("password", "(hidden)", "the username and password of an active account")
    return account, token, csrf


def change_password(request: Request, visitor: Visitor, current: str, new: str) -> None:
    """The visitor's new password; their other sessions end, this one stays.

    A wrong current password counts as a failed sign-in (the same limit guards both).
    """
    clinic, settings = clinic_of(request), settings_of(request)
    client, now, name = client_of(request), clinic.now(), visitor.account.username
    with clinic.db.transaction() as session:
        failures = accounts.recent_failures(session, name, client, now - settings.login_window)
    if failures.by_username >= settings.login_failures_allowed:
        raise RateLimitError(int(settings.login_window.total_seconds()))
    with clinic.db.transaction() as session:
        right = accounts.verify_password(session, name, current) is not None
        if right:
            accounts.change_password(
                session, visitor.account, current, new, keep_session=visitor.token
            )
        else:
            accounts.record_attempt(session, name, client, now, False)
        action, detail = ("write", "") if right else ("denied", "wrong current password")
        clinic.audit(session, visitor.account, action, "password", None, detail=detail)
    if not right:  # raised after the failed attempt is committed, as at sign-in
        raise InputError("current_password", "(hidden)", "your current password (it did not match)")


def sign_out(request: Request, visitor: Visitor) -> None:
    with clinic_of(request).db.transaction() as session:
        accounts.close_session(session, visitor.token)


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
    """A refused request goes to the audit log too (who, what, the answer), in its own transaction."""
    visitor = find_visitor(request)
    clinic = clinic_of(request)
    with clinic.db.transaction() as session:
        records.audit(
            session,
            at=clinic.now(),
            user_id=visitor.account.id if visitor else None,
            role=str(visitor.account.role) if visitor else "anonymous",
            action="denied",
            what=f"{request.method} {request.url.path}"[:64],
            patient_id=None,
            detail=f"answered {status}" + _record_named(request),
        )


# ----------------------------------------------------------------------------- errors as responses


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_body(error: BenzokitError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": str(error)}
    if isinstance(error, InputError):
        body |= {
            "field": error.field,
            "value": _shown(error.field, error.value),
            "allowed": error.allowed,
        }
    return {"error": body}


def _shown(field: str, value: object) -> object:
    """What an error may echo of a given value: never a password."""
    return "(hidden)" if "password" in field else _jsonable(value)


def _jsonable(value: object) -> object:
    """``value`` as JSON can carry it: text for anything else, non-finite numbers and lone surrogates."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bool | int | float | type(None)):
        return value
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def status_of(error: BenzokitError) -> int:
    if isinstance(error, AccessError):
        return error.status
    if isinstance(error, SignInRequiredError):
        return 401
    if isinstance(error, CsrfError):
        return 403
    if isinstance(error, RateLimitError):
        return 429
    if isinstance(error, InputError):
        return 422
    return 400


async def benzokit_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, BenzokitError)
    if isinstance(error, SignInRequiredError) and not _is_api(request):
        return RedirectResponse("/login", status_code=303)
    headers = (
        {"Retry-After": str(error.retry_after_s)} if isinstance(error, RateLimitError) else None
    )
    if isinstance(error, AccessError | CsrfError):
        audit_refusal(request, status_of(error))
    if _is_api(request):
        return JSONResponse(error_body(error), status_code=status_of(error), headers=headers)
    from benzokit.service.pages import error_page

    return error_page(request, error, status_of(error), headers)


def validation_fields(error: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as {field, message, value} with the location joined by dots (body. dropped)."""
    fields = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            invalid: dict[str, Any] = {"field": "body", "message": "not valid JSON", "value": None}
            fields.append(invalid)
            continue
        location = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        fields.append(
            {
                "field": ".".join(location) or "body",
                "message": item.get("msg", "invalid"),
                "value": _shown(".".join(location), item.get("input")),
            }
        )
    return fields


async def validation_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    fields = validation_fields(error)
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    if not _is_api(request):
        from benzokit.service.pages import error_page

        first = fields[0] if fields else {"field": "form", "value": None, "message": "invalid"}
        problem = InputError(str(first["field"]), first["value"], str(first["message"]))
        return error_page(request, problem, 422, None)
    return JSONResponse({"error": {"message": message, "fields": fields}}, status_code=422)


async def unexpected_error_handler(request: Request, error: Exception) -> Response:
    logging.getLogger("benzokit.service").exception("unexpected error on %s", request.url.path)
    message = "something went wrong on our side; nothing was saved from this request"
    if _is_api(request):
        return JSONResponse({"error": {"message": message}}, status_code=500)
    return Response(message, status_code=500, media_type="text/plain")


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


async def http_error_handler(request: Request, error: Exception) -> Response:
    """FastAPI's own HTTP errors (unknown route, wrong method, unreadable body) in benzokit's shape."""
    assert isinstance(error, StarletteHTTPException)
    message = str(error.detail)
    if _is_api(request) or error.status_code not in (404, 405):
        body = {
            "error": {"message": message, **({"field": "body"} if error.status_code == 400 else {})}
        }
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)
    from benzokit.service.pages import error_page

    return error_page(request, BenzokitError(message), error.status_code, error.headers)
