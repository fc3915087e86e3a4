"""Events produced by messaging.

Topic `messaging.messages.v1`. Keys are ids (a mailbox's or a message's), never
personal data. The events carry ids and a kind only: no subject, body, names or
personnummer. A consumer that needs more asks messaging's API; notify needs
nothing more to send an alert without confidential content (NT-1, NT-4).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from shared.events import Event

MESSAGES_TOPIC = "messaging.messages.v1"

# What landed in the e-service mailbox: a message (later also a decision letter).
DeliveryKind = Literal["message"]


class MessageDeliveredToEService(Event):
    """A message landed in a citizen's e-service mailbox (journey 5): notify alerts
    the citizen (and their related persons, per the e-service settings) by SMS or
    e-mail without saying what the message is about. Keyed by the mailbox, so one
    mailbox's deliveries stay in order."""

    ce_type = "se.omsorg.messaging.message.delivered-to-e-service.v1"
    topic = MESSAGES_TOPIC
    key_field = "mailbox_id"

    message_id: uuid.UUID
    mailbox_id: uuid.UUID
    person_id: uuid.UUID
    kind: DeliveryKind = "message"
    delivered_at: datetime
