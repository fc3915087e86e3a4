"""Events produced by notify.

Topic `notify.notifications.v1`, keyed by the alert's id. The outcome of each
alert, for casework or operations to consume: ids, the channel and the outcome
only, never a number, an address, a name or the alert's text (NT-4).

"delivered" means: for SMS, the gateway's delivery report said the phone got
it; for e-mail, which has no delivery reports, that the relay accepted it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.events import Event

NOTIFICATIONS_TOPIC = "notify.notifications.v1"

AlertRecipient = Literal["citizen", "related"]
AlertChannel = Literal["sms", "email"]
Outcome = Literal["delivered", "given_up"]


class AlertOutcome(Event):
    """An alert reached its end: delivered (SMS: by the delivery report; e-mail: the
    relay accepted it) or given up (permanent failure, deadline or attempts
    exhausted, or a failed delivery report). A given-up alert may be followed by a
    fallback alert on the other channel, whose own outcome names it in `fallback_of`."""

    ce_type = "se.omsorg.notify.alert.outcome.v1"
    topic = NOTIFICATIONS_TOPIC
    key_field = "alert_id"

    alert_id: uuid.UUID
    person_id: uuid.UUID
    recipient: AlertRecipient
    channel: AlertChannel
    outcome: Outcome
    fallback_of: uuid.UUID | None = None  # the given-up alert this one stood in for
    # The deliveries into the e-service mailbox the alert told about.
    message_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    decided_at: datetime
