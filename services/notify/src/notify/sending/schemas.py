"""The delivery report the SMS gateway posts (46elks' shape), and the answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ReportStatus = Literal["sent", "delivered", "failed"]


class DeliveryReport(BaseModel):
    """46elks' delivery report: the form fields `id`, `status` and, when delivered,
    `delivered` (the time, UTC); `alert_id` is the alert's id from the query of the
    callback URL notify handed the gateway."""

    # Other fields a gateway adds (46elks sends none today) are ignored, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=100)
    status: ReportStatus
    delivered: datetime | None = None
    alert_id: uuid.UUID | None = None

    @field_validator("delivered")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # 46elks writes UTC without an offset ("2018-07-24T08:11:26.483800").
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class DeliveryReportAck(BaseModel):
    """What notify did with a report: recorded, or ignored (an unknown gateway id, or an
    alert already delivered or given up). Either way the gateway need not send it again."""

    outcome: Literal["recorded", "ignored"]
