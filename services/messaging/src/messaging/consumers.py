"""Messaging's subscriptions to casework: who has the message function on, who
handles whom (caseworkers and co-caseworkers), and who may act for whom;
which messages casework journaled; and the decision letters and documents to
deliver into citizens' e-service mailboxes. From provider: which provider unit
carries out an order for which client, from the execution date through its end
(the provider staff's right to write to the client, MS-3), and the documents
provider staff send to the client's e-service (PR-10)."""

from messaging.deliveries import service as deliveries
from messaging.journal import service as journal
from messaging.mailboxes import service as mailboxes
from messaging.rights import service as rights
from shared.contracts import casework as cw
from shared.contracts import provider
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(
        cw.PERSONS_TOPIC,
        {
            cw.EServiceSettingsChanged: mailboxes.on_e_service_settings_changed,
            cw.RelatedPersonApproved: rights.on_approved,
            cw.RelatedPersonApprovalChanged: rights.on_approved,
            cw.RelatedPersonApprovalRevoked: rights.on_revoked,
        },
    )
    consumer.subscribe(
        cw.CASES_TOPIC,
        {
            cw.CaseworkerAssigned: rights.on_caseworker_assigned,
            cw.CoCaseworkerAdded: rights.on_co_caseworker_added,
            cw.CoCaseworkerRemoved: rights.on_co_caseworker_removed,
            cw.EServiceDeliveryRequested: deliveries.on_delivery_requested,
        },
    )
    consumer.subscribe(cw.JOURNAL_TOPIC, {cw.MessageJournaled: journal.on_message_journaled})
    consumer.subscribe(
        provider.ORDERS_TOPIC,
        {
            provider.ExecutionStarted: rights.on_execution_started,
            provider.ExecutionEnded: rights.on_execution_ended,
            provider.ProviderDocumentDeliveryRequested: deliveries.on_provider_delivery_requested,
        },
    )
