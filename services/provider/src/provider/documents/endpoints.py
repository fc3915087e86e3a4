"""Documents per assignment for provider staff (PR-10): write, list, read, change,
write-protect, print and send to the citizen's e-service; and the capability
route messaging fetches a sent document's PDF through."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from provider.documents import service
from provider.documents.schemas import DocumentForm, DocumentList, DocumentOut, DocumentPatch, SendForm
from provider.documents.settings import Config
from shared.auth import CurrentUser
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["documents"])

READ = problem_responses(NotAuthenticated, NotAllowed, NotFound, Conflict)
WRITE = problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict)
Token = Annotated[str, Query(min_length=1, max_length=200)]
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the document as PDF"}
}


@router.post("/orders/{order_id}/documents", status_code=201, responses=WRITE)
async def create_document(
    order_id: uuid.UUID, form: DocumentForm, user: CurrentUser, session: Session
) -> DocumentOut:
    """Write a document of the assignment: a genomförandeplan (SoL, LSS), a journal
    note (with `message_id` when made from a message) or another document."""
    return await service.create(session, user, order_id, form)


@router.get("/orders/{order_id}/documents", responses=READ)
async def list_documents(order_id: uuid.UUID, user: CurrentUser, session: Session) -> DocumentList:
    """The assignment's documents, newest first."""
    return await service.of_order(session, user, order_id)


@router.get("/documents/{document_id}", responses=READ)
async def get_document(document_id: uuid.UUID, user: CurrentUser, session: Session) -> DocumentOut:
    """One document."""
    return await service.read(session, user, document_id)


@router.patch("/documents/{document_id}", responses=WRITE)
async def change_document(
    document_id: uuid.UUID, form: DocumentPatch, user: CurrentUser, session: Session
) -> DocumentOut:
    """Change a document; 409 once it is write-protected."""
    return await service.update(session, user, document_id, form)


@router.post("/documents/{document_id}/write-protect", responses=WRITE)
async def write_protect_document(document_id: uuid.UUID, user: CurrentUser, session: Session) -> DocumentOut:
    """Skrivskydda: the document is final."""
    return await service.write_protect(session, user, document_id)


@router.get("/documents/{document_id}/pdf", response_class=Response, responses={**_PDF, **READ})
async def print_document(document_id: uuid.UUID, user: CurrentUser, session: Session) -> Response:
    """Skriv ut: the document as PDF (never with an address)."""
    return await service.print_pdf(session, user, document_id)


@router.post("/documents/{document_id}/send-to-e-service", responses=WRITE)
async def send_document(
    document_id: uuid.UUID,
    user: CurrentUser,
    session: Session,
    settings: Config,
    form: SendForm | None = None,
) -> DocumentOut:
    """Skicka till e-tjänsten: write-protect the document and deliver its PDF to the
    citizen's e-service as a message from you (once)."""
    return await service.send_to_e_service(session, user, document_id, form or SendForm(), settings)


@router.get(
    f"{service.FETCH_ROUTE}/{{document_id}}",
    response_class=Response,
    responses={**_PDF, **problem_responses(NotAllowed, NotFound)},
)
async def document_fetch(
    document_id: uuid.UUID, token: Token, session: Session, settings: Config
) -> Response:
    """A sent document's PDF, for messaging: the capability URL of
    ProviderDocumentDeliveryRequested (no bearer token; spent once delivered)."""
    return await service.document_fetch(session, document_id, token, settings)
