"""Documents (Dokumentation, CW-10): written and from templates, write-protect,
PDF, "create PDF and send to the e-service" (MS-10), and the capability route
messaging fetches a delivery's PDF through."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from casework.documents import service
from casework.documents.delivery import FETCH_ROUTE
from casework.documents.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentUpdate,
    SendToEService,
    TemplateOut,
)
from casework.documents.settings import DocumentsConfig, config
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["documents"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)
_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
Config = Annotated[DocumentsConfig, Depends(config)]
Token = Annotated[str, Query(min_length=1, max_length=200)]


@router.get("/document-templates", responses=problem_responses(NotAuthenticated, NotAllowed))
async def document_templates(user: Caseworker) -> list[TemplateOut]:
    """The document templates (mallar) and the fields each asks for."""
    return service.templates()


@router.post(
    "/persons/{person_id}/documents",
    status_code=status.HTTP_201_CREATED,
    responses={**_ON_OBJECT, **problem_responses(InvalidInput)},
)
async def create_document(
    person_id: uuid.UUID, form: DocumentCreate, user: Caseworker, session: Session, settings: Config
) -> DocumentOut:
    """A new document of the person, under a record or case if named: written, or
    filled from a template with the person's data (a missing field is named)."""
    return await service.create(session, user, person_id, form, settings)


@router.get("/persons/{person_id}/documents", responses=_ON_OBJECT)
async def person_documents(person_id: uuid.UUID, user: Caseworker, session: Session) -> list[DocumentOut]:
    """The person's documents you may reach, newest first."""
    return await service.of_person(session, user, person_id)


@router.get("/documents/{document_id}", response_class=Response, responses={**_PDF, **_ON_OBJECT})
async def get_document(
    document_id: uuid.UUID, user: Caseworker, session: Session, settings: Config
) -> Response:
    """The document's file (the application PDF, a journaled attachment, a decision
    letter); a written document as its PDF."""
    return await service.file_response(session, user, document_id, settings, pdf_only=False)


@router.get("/documents/{document_id}/details", responses=_ON_OBJECT)
async def document_details(document_id: uuid.UUID, user: Caseworker, session: Session) -> DocumentOut:
    """The document's type, title, date, text, write-protection and delivery."""
    return await service.details(session, user, document_id)


@router.get(
    "/documents/{document_id}/pdf",
    response_class=Response,
    responses={**_PDF, **_ON_OBJECT, **problem_responses(Conflict)},
)
async def document_pdf(
    document_id: uuid.UUID, user: Caseworker, session: Session, settings: Config
) -> Response:
    """The document as PDF (a written one rendered; kept as rendered once write-protected)."""
    return await service.file_response(session, user, document_id, settings, pdf_only=True)


@router.patch(
    "/documents/{document_id}", responses={**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)}
)
async def update_document(
    document_id: uuid.UUID, form: DocumentUpdate, user: Caseworker, session: Session
) -> DocumentOut:
    """Change the document's type, title, date or text; 409 once it is write-protected."""
    return await service.update(session, user, document_id, form)


@router.post(
    "/documents/{document_id}/write-protect", responses={**_ON_OBJECT, **problem_responses(Conflict)}
)
async def write_protect_document(
    document_id: uuid.UUID, user: Caseworker, session: Session, settings: Config
) -> DocumentOut:
    """Skrivskydda: the document can never be changed afterwards (a written one's PDF is kept)."""
    return await service.write_protect(session, user, document_id, settings)


@router.post(
    "/documents/{document_id}/send-to-e-service",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)},
)
async def send_to_e_service(
    document_id: uuid.UUID,
    user: Caseworker,
    session: Session,
    settings: Config,
    form: SendToEService | None = None,
) -> DocumentOut:
    """Skapa PDF och skicka till e-tjänsten: write-protect the document, render its PDF
    and deliver it to the person's e-service mailbox as a message from you. 409 when
    the person's e-service is not active: send it by post."""
    return await service.send_to_e_service(session, user, document_id, form or SendToEService(), settings)


@router.get(
    f"{FETCH_ROUTE}/{{document_id}}",
    response_class=Response,
    responses={**_PDF, **problem_responses(NotAllowed, NotFound)},
)
async def e_service_fetch(
    document_id: uuid.UUID, token: Token, session: Session, settings: Config
) -> Response:
    """A delivery's PDF, for messaging: the capability URL of EServiceDeliveryRequested
    (no bearer token; the link is bound to the document and the delivery, expires,
    and is spent once the document is delivered)."""
    return await service.e_service_fetch(session, document_id, token, settings)
