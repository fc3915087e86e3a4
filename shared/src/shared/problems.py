"""Domain errors with an HTTP status, and their RFC 9457 problem-details form.

Services raise `ServiceError` subclasses; one handler turns them (and request
validation errors) into `application/problem+json`. Nothing else answers 500
with a stack trace, and error bodies never echo personal data back.

Neither do the logs: an exception's message may carry input values (pydantic's
`input_value=...`, PostgreSQL's `DETAIL: Key (pnr)=(...)`), so the error path
logs the exception's type, the route template and a correlation id, never the
message (docs/http-edge.md).
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.infra_errors import is_infrastructure_error

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ServiceError(Exception):
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"
    headers: dict[str, str] | None = None  # response headers, e.g. Retry-After

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(ServiceError):
    status = 422
    title = "Invalid input"


class NotAuthenticated(ServiceError):
    status = 401
    title = "Not authenticated"


class NotAllowed(ServiceError):
    status = 403
    title = "Not allowed"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class Unavailable(ServiceError):
    status = 503
    title = "Service unavailable"


class TooManyRequests(ServiceError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after_seconds, **extra)
        self.headers = {"Retry-After": str(retry_after_seconds)}


def problem(status: int, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*errors: type[ServiceError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint, so the OpenAPI docs list its problems."""
    return {e.status: {"description": e.title, "content": {PROBLEM_JSON: {}}} for e in errors}


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PROBE: dict[str, Any] = {"type": "http", "headers": [], "query_string": b""}


def _declared_methods(app: ASGIApp, path: str) -> list[str] | None:
    """The methods the OpenAPI document gives a fixed path (/persons/search), if it has it."""
    openapi = getattr(app, "openapi", None)
    declared = (openapi() if callable(openapi) else {}).get("paths", {}).get(path)
    if not declared:
        return None
    return [m for m in _METHOD_ORDER if m.lower() in declared]


def allowed_methods(app: ASGIApp, scope: Scope) -> str:
    """Every method this path has, for a 405's Allow header (RFC 9110). A fixed path
    has what its own routes declare, even where a template (/persons/{person_id})
    matches it too. Otherwise ask the routes per method: Starlette names only the
    first route that matched, and a path often has one route per method."""
    declared = _declared_methods(app, scope["path"])
    if declared is not None:
        return ", ".join(declared)
    routes = getattr(getattr(app, "router", None), "routes", ())
    allowed = []
    for method in _METHOD_ORDER:
        probe = {**_PROBE, "method": method, "path": scope["path"], "root_path": scope.get("root_path", "")}
        if any(route.matches(probe)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


def _fixed_path_methods(request: Request, exc: RequestValidationError) -> str | None:
    """The methods of a fixed path (/persons/search) that a request with another method
    reached through a template (/persons/{person_id}) and failed there for the path
    parameter. That is a method the path does not have (405), not a malformed id (422)."""
    path = request.scope.get("path", "")
    if route_template(request.scope) == path or not any(
        tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()
    ):
        return None
    declared = _declared_methods(request.app, path)
    return ", ".join(declared) if declared else None


_CLIENT_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def correlation_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new id. It goes
    in the log line and the problem body, so a report can be matched to the log."""
    for name, value in scope.get("headers", ()):
        if name in (b"x-request-id", b"x-correlation-id"):
            text: str = value.decode("latin-1")
            if _CLIENT_CORRELATION_ID.match(text):
                return text
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route as declared ("/applications/{application_id}"), never the
    concrete path, whose segments may be identifiers of a person."""
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(template) if template else "(no route)"


def _field_like(part: object) -> object:
    return part if isinstance(part, int) or re.fullmatch(r"[a-z_][a-z0-9_]*", str(part)) else "*"


def _type_name(exc: BaseException, qualified: bool) -> str:
    kind = type(exc)
    if not qualified or kind.__module__ == "builtins":
        return kind.__name__
    return f"{kind.__module__}.{kind.__qualname__}"


def describe(exc: BaseException, qualified: bool = False) -> str:
    """The exception's type and its causes' types (`qualified`: with their modules,
    so sqlalchemy's pool TimeoutError is told from a connect timeout); for a
    response validation error the failing locations and error types. Never a
    message or a value."""
    names, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.append(_type_name(current, qualified))
        current = current.__cause__ or current.__context__
    text = " <- ".join(names)
    if isinstance(exc, ResponseValidationError):
        where = sorted(
            {
                ".".join(str(_field_like(p)) for p in e.get("loc", ())) + f" ({e.get('type', '?')})"
                for e in exc.errors()
            }
        )
        text += f" at {', '.join(where[:10])}"
    return text


def log_unexpected(scope: Scope, exc: BaseException, cid: str) -> None:
    log.error(
        "unhandled %s on %s %s (correlation id %s)",
        describe(exc),
        scope.get("method", ""),
        route_template(scope),
        cid,
    )


def _internal_error(scope: Scope, cid: str) -> JSONResponse:
    response = problem(
        500,
        "Internal error",
        "The request failed unexpectedly. Quote the correlation id when you report it.",
        scope.get("path", ""),
        correlation_id=cid,
    )
    response.headers["x-correlation-id"] = cid
    return response


# A database that is away (refused, reset, shutting down or starting up, out of
# connections) or a pool with no free connection: answered 503 with this
# Retry-After, never 500 and never a wait of half a minute. The transaction was
# rolled back by the request's session (shared.db): nothing was saved.
DEPENDENCY_RETRY_AFTER_SECONDS = 2


def _dependency_unavailable(scope: Scope, exc: BaseException) -> JSONResponse:
    cid = correlation_id(scope)
    # Types only, as for every error: a driver's message may quote a statement's values.
    log.warning(
        "dependency unavailable: %s on %s %s (correlation id %s)",
        describe(exc, qualified=True),
        scope.get("method", ""),
        route_template(scope),
        cid,
    )
    seconds = DEPENDENCY_RETRY_AFTER_SECONDS
    response = problem(
        503,
        "Service unavailable",
        f"A service this request needs is unavailable or busy; nothing was saved. Try again in {seconds} s.",
        scope.get("path", ""),
        retry_after=seconds,
        correlation_id=cid,
    )
    response.headers["retry-after"] = str(seconds)
    response.headers["x-correlation-id"] = cid
    return response


def error_response(scope: Scope, exc: BaseException) -> JSONResponse:
    """The answer to an exception no handler took: 503 when the database (or
    another dependency) is away or busy, else 500; logged without its message."""
    if is_infrastructure_error(exc):
        return _dependency_unavailable(scope, exc)
    cid = correlation_id(scope)
    log_unexpected(scope, exc, cid)
    return _internal_error(scope, cid)


class ResponseAbandoned(Exception):
    """An unexpected error after the response had started; raised instead of
    the original so the server's own error log gets no message to print."""


class UnhandledErrors:
    """Turns every exception no handler took (a bug, a ResponseValidationError)
    into a 500 problem and one log line without the exception's message.

    A pure ASGI middleware inside Starlette's ServerErrorMiddleware: that one
    re-raises after its handler ran, and the server then logs the traceback
    with the message, personal data included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            if started:
                cid = correlation_id(scope)
                log_unexpected(scope, exc, cid)
                raise ResponseAbandoned(f"correlation id {cid}") from None
            await error_response(scope, exc)(scope, receive, send)


class WithholdExceptionText(logging.Filter):
    """For the server's own "Exception in ASGI application" records (what got
    past every handler): keep the exception's type and stack frames, drop its
    message and its chained exceptions' messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = "".join(traceback.format_tb(exc.__traceback__))
            record.msg = f"{record.getMessage()} ({describe(exc)}; message withheld)\n{frames.rstrip()}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_WITHHOLD = WithholdExceptionText()


def install_problem_handlers(app: FastAPI) -> None:
    app.add_middleware(UnhandledErrors)
    for name in ("uvicorn.error", "uvicorn"):
        if _WITHHOLD not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_WITHHOLD)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fixed = _fixed_path_methods(request, exc)
        if fixed is not None:
            response = problem(405, "Method Not Allowed", "Method Not Allowed", request.url.path)
            response.headers["Allow"] = fixed
            return response
        # Location and message only: the rejected input may be personal data.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(
            422, "Invalid input", "The request does not match the schema.", request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = getattr(exc, "title", None) or str(exc.detail)
        response = problem(
            exc.status_code,
            title,
            str(exc.detail),
            request.url.path,
            **({"max_bytes": exc.limit} if exc.status_code == 413 and hasattr(exc, "limit") else {}),
        )
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request.app, request.scope)
        return response

    # Safety net: pydantic validates first, but what only the database can judge
    # (a NUL character in text, two concurrent first inserts) must still be a
    # clear problem, never a 500. The transaction is rolled back: nothing saved.
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate.startswith("22"):  # data exception
            return problem(
                422,
                "Invalid input",
                "A value cannot be stored (for example a NUL character in a text); nothing was saved.",
                request.url.path,
            )
        if sqlstate.startswith("23"):  # integrity constraint: a concurrent change won
            log.warning(
                "integrity conflict %s on %s %s", sqlstate, request.method, route_template(request.scope)
            )
            return problem(
                409,
                "Conflict",
                "The change collides with another one made at the same "
                "time; nothing was saved. Reload and try again.",
                request.url.path,
            )
        return error_response(request.scope, exc)

    # What escapes even UnhandledErrors (an outer middleware's bug) reaches
    # ServerErrorMiddleware, which calls this and then re-raises to the server.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(request.scope, exc)
