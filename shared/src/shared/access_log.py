"""Log review (loggkontroll) for any service: every access to one person's data
in this service's audit log. The personnummer goes in the body, never the URL."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from shared import audit
from shared.audit import AccessLogEntry
from shared.auth import LogReviewer
from shared.db import Session
from shared.personnummer import Personnummer
from shared.problems import InvalidInput, NotAllowed, NotAuthenticated, problem_responses

router = APIRouter(tags=["log review"])


class AccessLogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    personnummer: Personnummer


@router.post("/access-log/search", responses=problem_responses(InvalidInput, NotAuthenticated, NotAllowed))
async def search_access_log(
    query: AccessLogQuery, user: LogReviewer, session: Session
) -> list[AccessLogEntry]:
    """Who accessed the person's data in this service, newest first; the review is itself logged."""
    pnr = str(query.personnummer)
    rows = await audit.access_log(session, pnr)
    await audit.record(
        session,
        audit.AuditEntry(
            actor=user.sub,
            actor_role="log_reviewer",
            action="read",
            object_type="access_log",
            subject_pnr=pnr,
        ),
    )
    return rows
