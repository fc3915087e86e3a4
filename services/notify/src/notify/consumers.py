"""Notify's subscriptions: casework's facts about who is alerted where (alert
settings, related persons' approvals, the units handling a person) and the
trigger, a delivery into a citizen's e-service mailbox (messaging). Other
events on these topics are ignored by the inbox; one that does not parse goes
to `<topic>.dlq.notify`."""

from notify.alerts import service as alerts
from notify.clock import Clock, system_clock
from notify.config import Settings
from notify.recipients import service as recipients
from shared.contracts import casework as cw
from shared.contracts import messaging as ms
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer, settings: Settings, clock: Clock = system_clock) -> None:
    """Register notify's handlers on its inbox consumer."""
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(
        cw.PERSONS_TOPIC,
        {
            cw.EServiceSettingsChanged: alerts.settings_handler(settings, clock),
            cw.RelatedPersonApproved: recipients.on_approved,
            cw.RelatedPersonApprovalChanged: recipients.on_approved,
            cw.RelatedPersonApprovalRevoked: recipients.on_revoked,
        },
    )
    consumer.subscribe(cw.CASES_TOPIC, {cw.CaseworkerAssigned: recipients.on_caseworker_assigned})
    consumer.subscribe(
        ms.MESSAGES_TOPIC, {ms.MessageDeliveredToEService: alerts.delivered_handler(settings, clock)}
    )
