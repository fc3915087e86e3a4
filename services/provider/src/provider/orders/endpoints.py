"""Orders and execution for provider staff: "Ej bekräftade beställningar", the
confirmed orders, search, read, print, documents, confirm and end (PR-2..PR-5)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response, StreamingResponse

from provider.orders import service
from provider.orders.models import OrderStatus
from provider.orders.schemas import (
    PAGE_MAX,
    ConfirmForm,
    EndForm,
    OrderOut,
    OrderPage,
    OrderSummary,
    PrintPart,
    SearchForm,
)
from provider.orders.settings import Config
from shared.auth import CurrentUser
from shared.db import Session
from shared.pdf import PdfResponse
from shared.problems import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    Unavailable,
    problem_responses,
)

router = APIRouter(tags=["orders"])

UnitCode = Annotated[str, Path(min_length=1, max_length=100, description="the unit's code, as in the token")]
READ = problem_responses(NotAuthenticated, NotAllowed, NotFound)
LIST = problem_responses(InvalidInput, NotAuthenticated, NotAllowed)
WRITE = problem_responses(InvalidInput, NotAuthenticated, NotAllowed, NotFound, Conflict)
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the order as PDF"}
}
_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the document, streamed from casework"}
}


@router.get("/units/{unit}/orders", responses=LIST)
async def list_orders(
    unit: UnitCode,
    user: CurrentUser,
    session: Session,
    status: Annotated[
        OrderStatus | None,
        Query(description="unconfirmed (Ej bekräftade), confirmed or ended; all if absent"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    after: Annotated[str | None, Query(max_length=200, description="cursor from `next`")] = None,
) -> OrderPage:
    """The unit's orders, newest first: `status=unconfirmed` is the home box
    "Ej bekräftade beställningar", `status=confirmed` the confirmed ones."""
    return await service.list_of_unit(session, user, unit, status, limit, after)


@router.post("/units/{unit}/orders/search", responses=LIST)
async def search_orders(
    unit: UnitCode, form: SearchForm, user: CurrentUser, session: Session
) -> list[OrderSummary]:
    """Sök brukare: one client's orders in the unit by name, personnummer or kundnummer."""
    return await service.search(session, user, unit, form)


@router.get("/orders/{order_id}", responses=READ)
async def get_order(order_id: uuid.UUID, user: CurrentUser, session: Session) -> OrderOut:
    """The order in full: client, service, extent, period, the intake note, documents, execution."""
    return await service.read(session, user, order_id)


@router.get("/orders/{order_id}/pdf", response_class=Response, responses={**_PDF, **READ})
async def print_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    session: Session,
    parts: Annotated[
        list[PrintPart] | None, Query(max_length=5, description="the parts to print; all if absent")
    ] = None,
) -> PdfResponse:
    """Skriv ut: the order as a PDF (the chosen parts)."""
    return await service.print_pdf(session, user, order_id, parts or [])


@router.get(
    "/orders/{order_id}/documents/{document_id}",
    response_class=StreamingResponse,
    responses={
        **_FILE,
        **problem_responses(NotAuthenticated, NotAllowed, NotFound, Unavailable, service.DocumentNotFetched),
    },
)
async def get_order_document(
    order_id: uuid.UUID, document_id: uuid.UUID, user: CurrentUser, session: Session, settings: Config
) -> StreamingResponse:
    """A document the caseworker attached, fetched from casework now and streamed."""
    return await service.open_document(session, user, order_id, document_id, settings.fetcher)


@router.post("/orders/{order_id}/confirm", responses=WRITE)
async def confirm_order(
    order_id: uuid.UUID, form: ConfirmForm, user: CurrentUser, session: Session
) -> OrderOut:
    """Bekräfta: start the execution on its date (verkställighetsdatum; may lie ahead,
    never changes afterwards: a second confirm is 409)."""
    return await service.confirm(session, user, order_id, form)


@router.post("/orders/{order_id}/end", responses=WRITE)
async def end_execution(order_id: uuid.UUID, form: EndForm, user: CurrentUser, session: Session) -> OrderOut:
    """Avsluta verkställighet: end date, reason and `confirm: true` (I am sure)."""
    return await service.end(session, user, order_id, form)
