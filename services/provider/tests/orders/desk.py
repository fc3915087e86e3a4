"""Orders as casework places them, for the orders and absences tests: an
OrderPlaced built like casework's, handed to provider's consumer handler with
its envelope (as the inbox would), and confirmed through the service layer.
Loaded by tests/orders/conftest.py and tests/absences/conftest.py."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from provider.orders import service as orders
from provider.orders.schemas import ConfirmForm
from shared.auth import User
from shared.contracts.casework import DeliveryFile, OrderPlaced
from shared.events import Envelope, Event

CASEWORK_SOURCE = "/omsorg/casework"
NOTE = "Kunden flyttar in på Solgården. Behöver hjälp med morgon- och kvällsrutiner.\nAllergi: nötter."
ADDRESS = "Storgatan 12, 136 40 Haninge"


@dataclass
class Desk:
    """Places orders for providers' units, as casework's OrderPlaced does."""

    session: AsyncSession
    new_personnummer: Callable[[], str]

    def envelope(self, event: Event) -> Envelope:
        return Envelope(uuid.uuid4(), event.ce_type, CASEWORK_SOURCE, datetime.now(UTC), event.subject())

    def event(
        self,
        provider_id: uuid.UUID,
        unit: str,
        *,
        pnr: str | None = None,
        name: str = "Greta Gustafsson",
        kundnummer: str | None = None,
        person_id: uuid.UUID | None = None,
        protected: bool = False,
        address: str | None = ADDRESS,
        documents: Sequence[DeliveryFile] = (),
        **values: Any,
    ) -> OrderPlaced:
        """An OrderPlaced of a fresh client (or the one given) for the provider's unit."""
        return OrderPlaced.model_validate(
            {
                "order_id": uuid.uuid4(),
                "decision_id": uuid.uuid4(),
                "case_id": uuid.uuid4(),
                "record_id": uuid.uuid4(),
                "provider_id": provider_id,
                "unit": unit,
                "client": {
                    "person_id": person_id or uuid.uuid4(),
                    "pnr": pnr or self.new_personnummer(),
                    "name": name,
                    "kundnummer": kundnummer or f"K{uuid.uuid4().int % 10**8:08d}",
                    "address": address,
                    "phone": "0701234567",
                    "protected_identity": protected,
                },
                "service_code": "SÄBO",
                "service_name": "Särskilt boende för äldre",
                "extent": "Heldygnsomsorg",
                "period_from": date.today(),
                "period_to": None,
                "note": NOTE,
                "documents": list(documents),
                "caseworker_id": "caseworker-1",
                "caseworker_name": "Marita Aronsson",
                "caseworker_unit": "Bosam SÄF",
                "placed_at": datetime.now(UTC),
                **values,
            }
        )

    async def place(self, provider_id: uuid.UUID, unit: str, **values: Any) -> OrderPlaced:
        """Casework's order for the unit, kept by provider's consumer handler."""
        event = self.event(provider_id, unit, **values)
        await orders.on_order_placed(self.session, event, self.envelope(event))
        return event

    async def executing(
        self,
        provider_id: uuid.UUID,
        unit: str,
        staff: User,
        execution_date: date | None = None,
        **values: Any,
    ) -> OrderPlaced:
        """An order the unit confirmed: executing from `execution_date` (30 days ago by default)."""
        event = await self.place(provider_id, unit, **values)
        start = execution_date or date.today() - timedelta(days=30)
        await orders.confirm(self.session, staff, event.order_id, ConfirmForm(execution_date=start))
        return event


def delivery_file(base_url: str, route: str, content: bytes, filename: str = "Utredning.pdf") -> DeliveryFile:
    """A document as casework announces it: at `<base_url><route><id>?token=...`."""
    document_id = uuid.uuid4()
    return DeliveryFile(
        document_id=document_id,
        filename=filename,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        url=f"{base_url}{route}{document_id}?token=t",
    )
