"""Domain errors with an HTTP status, and their RFC 9457 problem-details form.

Services raise `ServiceError` subclasses; one handler turns them (and request
validation errors) into `application/problem+json`. Nothing else answers 500
with a stack trace, and error bodies never echo personal data back.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ServiceError(Exception):
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"

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


def problem(status: int, title: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": instance, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*errors: type[ServiceError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint, so the OpenAPI docs list its problems."""
    return {e.status: {"description": e.title, "content": {PROBLEM_JSON: {}}} for e in errors}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Location and message only: the rejected input may be personal data.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return problem(422, "Invalid input", "The request does not match the schema.",
                       request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail), request.url.path)

    # Safety net: pydantic validates first, but what only the database can judge
    # (a NUL character in text, two concurrent first inserts) must still be a
    # clear problem, never a 500. The transaction is rolled back: nothing saved.
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate.startswith("22"):  # data exception
            return problem(422, "Invalid input", "A value cannot be stored (for example a NUL "
                           "character in a text); nothing was saved.", request.url.path)
        if sqlstate.startswith("23"):  # integrity constraint: a concurrent change won
            log.warning("integrity conflict %s on %s %s", sqlstate, request.method, request.url.path)
            return problem(409, "Conflict", "The change collides with another one made at the same "
                           "time; nothing was saved. Reload and try again.", request.url.path)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem(500, "Internal error", "The request failed; nothing was saved.",
                       request.url.path)
