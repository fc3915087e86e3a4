"""DEVELOPMENT e-ID backend — never for production. Answers like BankID: the
first collect of an order is pending (outstandingTransaction), the next ones
complete for the chosen person or fail with the chosen hint code.

Its orders live in intake's database, in transactions of their own (as a
remote BankID's would), so any intake replica can collect any order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.login import repository
from intake.login.backends import BackendName, CollectResult, CompletedUser, Order
from intake.login.models import SimulatedOrder, SimulatedOutcome
from shared.problems import InvalidInput
from shared.settings import DEVELOPMENT_ENVIRONMENTS

TEST_PERSONNUMMER = "191212121212"
TEST_NAME = "Tolvan Tolvansson"


def _no_such_order() -> InvalidInput:
    # What BankID answers for an orderRef it does not know (any more).
    return InvalidInput("No such e-ID order.", bankid_error="invalidParameters")


class Simulator:
    """An `EidBackend` that needs no BankID: for local runs and tests."""

    name: BackendName = "simulator"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], environment: str) -> None:
        if environment not in DEVELOPMENT_ENVIRONMENTS:
            raise RuntimeError(f"The e-ID simulator must not run in {environment}: development only.")
        self._sessionmaker = sessionmaker

    async def auth(self, end_user_ip: str) -> Order:
        """Start an order that completes for the test person."""
        return await self.auth_as(end_user_ip, TEST_PERSONNUMMER, TEST_NAME, "complete")

    async def auth_as(
        self,
        end_user_ip: str,
        personal_number: str,
        name: str,
        outcome: SimulatedOutcome,
        device_ip: str | None = None,
    ) -> Order:
        """Start an order that ends as `outcome`, for the person given, completed
        from `device_ip` (by default the user's own address, as on the same device)."""
        order = Order(
            order_ref=str(uuid.uuid4()),
            auto_start_token=str(uuid.uuid4()),
            qr_start_token=str(uuid.uuid4()),
            qr_start_secret=str(uuid.uuid4()),
        )
        async with self._sessionmaker() as session, session.begin():
            repository.add_simulated_order(
                session,
                SimulatedOrder(
                    order_ref=order.order_ref,
                    personal_number=personal_number,
                    name=name,
                    outcome=outcome,
                    collects=0,
                    created_at=datetime.now(UTC),
                    device_ip=device_ip or end_user_ip,
                ),
            )
        return order

    async def collect(self, order_ref: str) -> CollectResult:
        """Pending on the first collect, then the chosen outcome."""
        async with self._sessionmaker() as session, session.begin():
            order = await repository.count_simulated_collect(session, order_ref)
        if order is None:
            raise _no_such_order()
        if order.collects == 1:
            return CollectResult(status="pending", hint_code="outstandingTransaction")
        if order.outcome != "complete":
            return CollectResult(status="failed", hint_code=order.outcome)
        given_name, _, surname = order.name.partition(" ")
        return CollectResult(
            status="complete",
            device_ip=order.device_ip,
            user=CompletedUser(
                personal_number=order.personal_number, name=order.name, given_name=given_name, surname=surname
            ),
        )

    async def cancel(self, order_ref: str) -> None:
        """Forget the order, as BankID does."""
        async with self._sessionmaker() as session, session.begin():
            if not await repository.delete_simulated_order(session, order_ref):
                raise _no_such_order()
