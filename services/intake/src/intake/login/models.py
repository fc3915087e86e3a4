"""Tables of the citizen e-ID login (IN-1): one row per BankID order, and the
development simulator's own orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.login.backends import BackendName, CollectStatus
from intake.models import Base, literal_enum

# How a simulated order ends: completes, or fails with this BankID hint code.
SimulatedOutcome = Literal["complete", "userCancel", "expiredTransaction"]


class LoginTransaction(Base):
    """A citizen's e-ID login: one order at the e-ID backend, and whether it
    has given out its token."""

    __tablename__ = "login_transactions"
    # The purge finds ended and expired logins by these.
    __table_args__ = (
        Index("login_transactions_started_at", "started_at"),
        Index("login_transactions_finished_at", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    backend: Mapped[BackendName] = mapped_column(literal_enum(BackendName, 16))
    order_ref: Mapped[str] = mapped_column(String(100))
    auto_start_token: Mapped[str] = mapped_column(String(100))
    qr_start_token: Mapped[str] = mapped_column(String(100))
    # Signs the animated QR code; never leaves the server, cleared when the login ends.
    qr_start_secret: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[CollectStatus] = mapped_column(literal_enum(CollectStatus, 16))
    hint_code: Mapped[str | None] = mapped_column(String(40))
    # When the backend's auth answered: the QR code's seconds count from here.
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # SHA-256 of the secret in the starting browser's cookie: only that browser may
    # see the QR code, collect or cancel. None (a login older than this): no browser may.
    browser_binding: Mapped[str | None] = mapped_column(String(64))
    # The address BankID was told (endUserIp); the completing device must be there too.
    end_user_ip: Mapped[str | None] = mapped_column(String(45))


class SimulatedOrder(Base):
    """DEVELOPMENT e-ID simulator: what one order answers to collect. Kept in
    the database so every intake replica sees the same order."""

    __tablename__ = "eid_simulator_orders"
    __table_args__ = (Index("eid_simulator_orders_created_at", "created_at"),)

    order_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    # As the tester chose it, unvalidated: the login must reject a bad one.
    personal_number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[SimulatedOutcome] = mapped_column(literal_enum(SimulatedOutcome, 32))
    collects: Mapped[int] = mapped_column(Integer)
    # Where the simulated device completes from (completionData.device.ipAddress).
    device_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
