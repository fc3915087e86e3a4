"""Uploading an attachment (the raw file as the body) and reading one's own upload.

Attachments on a message are listed and downloaded through the message's
routes (the messages module), which check access to the message first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from messaging.attachments import service
from messaging.attachments.content_types import ALLOWED
from messaging.attachments.schemas import AttachmentOut
from messaging.config import ATTACHMENT_UPLOAD_ROUTE, Settings
from shared.auth import Role, User, require_role
from shared.db import Session
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["attachments"])

# Whoever writes messages: staff, provider staff, citizens (related persons too).
Uploader = Annotated[
    User,
    Depends(
        require_role(
            Role.CITIZEN,
            Role.CASEWORKER,
            Role.FEE_ADMINISTRATOR,
            Role.MESSAGING_ADMIN,
            Role.ADMIN,
            Role.PROVIDER,
            Role.PROVIDER_MANAGER,
        )
    ),
]


@lru_cache(maxsize=1)
def limits() -> service.Limits:
    settings = Settings()  # from the environment
    return service.Limits(
        max_bytes=settings.attachment_max_bytes,
        unclaimed_after=timedelta(hours=settings.attachment_unclaimed_hours),
    )


_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file itself (not a form), with its type as Content-Type.",
        "content": {
            # An empty file is refused (422): the schema says so. Plain text is a string.
            media_type: {
                "schema": {"type": "string", "minLength": 1}
                if media_type.startswith("text/")
                else {"type": "string", "format": "binary", "minLength": 1}
            }
            for media_type in ALLOWED
        },
    }
}
_UPLOAD_PROBLEMS = problem_responses(
    NotAuthenticated, NotAllowed, InvalidInput, service.TooLarge, service.UnsupportedType
)


async def _upload(
    request: Request, filename: str, user: User, session: Session, store_limits: service.Limits
) -> AttachmentOut:
    return await service.upload(
        session, user, filename, request.headers.get("content-type"), request.stream(), store_limits
    )


FileName = Annotated[str, Query(min_length=1, max_length=1000, description="The file's name, as shown.")]
StoreLimits = Annotated[service.Limits, Depends(limits)]


@router.put(ATTACHMENT_UPLOAD_ROUTE, status_code=201, responses=_UPLOAD_PROBLEMS, openapi_extra=_RAW_BODY)
async def upload_put(
    request: Request, filename: FileName, user: Uploader, session: Session, store_limits: StoreLimits
) -> AttachmentOut:
    """Upload a file (at most 16 MB; PDF, PNG, JPEG, Office documents, plain text) to
    attach to a message: the body is the file, streamed; the answer its id, to name
    when sending. Unattached uploads are deleted after a day."""
    return await _upload(request, filename, user, session, store_limits)


@router.post(ATTACHMENT_UPLOAD_ROUTE, status_code=201, responses=_UPLOAD_PROBLEMS, openapi_extra=_RAW_BODY)
async def upload_post(
    request: Request, filename: FileName, user: Uploader, session: Session, store_limits: StoreLimits
) -> AttachmentOut:
    """The same as PUT /attachments."""
    return await _upload(request, filename, user, session, store_limits)


@router.get(
    "/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses=problem_responses(NotAuthenticated, NotAllowed, NotFound),
)
async def download_own(
    attachment_id: uuid.UUID, request: Request, user: Uploader, session: Session
) -> StreamingResponse:
    """One's own upload, while it is not attached to a message."""
    return await service.download_own(session, request.app.state.sessionmaker, user, attachment_id)
