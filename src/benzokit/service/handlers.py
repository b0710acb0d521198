"""Errors as responses: never a traceback. An :class:`InputError` becomes 422 naming the field, what was
given and what is allowed; refusals (403/404, CSRF) are audited; pages get an error page, the API JSON.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from benzokit.errors import BenzokitError, InputError
from benzokit.service.access import AccessError
from benzokit.service.rendering import error_page
from benzokit.service.signin import RateLimitError
from benzokit.service.web import CsrfError, SignInRequiredError, audit_refusal


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


async def http_error_handler(request: Request, error: Exception) -> Response:
    """FastAPI's own HTTP errors (unknown route, wrong method, unreadable body) in benzokit's shape."""
    assert isinstance(error, StarletteHTTPException)
    message = str(error.detail)
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    if _is_api(request) or error.status_code not in (404, 405):
        body = {
            "error": {"message": message, **({"field": "body"} if error.status_code == 400 else {})}
        }
        return JSONResponse(body, status_code=error.status_code, headers=headers)
    return error_page(request, BenzokitError(message), error.status_code, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on the request's path (Starlette names only the methods of
    the first route whose path matched, though several routes may share a path): each method is
    tried against the routes as the router would."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
