"""Orders (beställningar) of granted services from provider units, their state,
and the capability route providers fetch an order's documents through."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from casework.orders import service
from casework.orders.schemas import OrderCreate, OrderOut
from casework.orders.service import FETCH_ROUTE
from casework.orders.settings import OrdersConfig, config
from shared.auth import Caseworker
from shared.db import Session
from shared.problems import Conflict, InvalidInput, NotAllowed, NotAuthenticated, NotFound, problem_responses

router = APIRouter(tags=["orders"])
_ON_OBJECT = problem_responses(NotAuthenticated, NotAllowed, NotFound)
_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
Config = Annotated[OrdersConfig, Depends(config)]
Token = Annotated[str, Query(min_length=1, max_length=200)]


@router.post(
    "/decisions/{decision_id}/orders",
    status_code=status.HTTP_201_CREATED,
    responses={**_ON_OBJECT, **problem_responses(InvalidInput, Conflict)},
)
async def place_order(
    decision_id: uuid.UUID, form: OrderCreate, user: Caseworker, session: Session, settings: Config
) -> OrderOut:
    """Order the granted service of a signed decision from a provider unit, with the
    intake note and the documents picked (409 for a service that was not granted)."""
    return await service.place_order(session, user, decision_id, form, settings)


@router.get("/cases/{case_id}/orders", responses=_ON_OBJECT)
async def case_orders(case_id: uuid.UUID, user: Caseworker, session: Session) -> list[OrderOut]:
    """The case's orders, newest first: Beställd, Verkställd (with the execution date) or Avslutad."""
    return await service.orders_of_case(session, user, case_id)


@router.get("/orders/{order_id}", responses=_ON_OBJECT)
async def get_order(order_id: uuid.UUID, user: Caseworker, session: Session) -> OrderOut:
    """One order and its state."""
    return await service.get_order(session, user, order_id)


@router.get(
    f"{FETCH_ROUTE}/{{document_id}}",
    response_class=Response,
    responses={**_PDF, **problem_responses(NotAllowed, NotFound)},
)
async def order_fetch(document_id: uuid.UUID, token: Token, session: Session, settings: Config) -> Response:
    """One of an order's documents, for its provider: the capability URL of
    OrderPlaced (no bearer token; bound to the document and the order, expiring,
    spent once the execution ended)."""
    return await service.order_fetch(session, document_id, token, settings)
