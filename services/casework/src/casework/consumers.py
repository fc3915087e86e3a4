"""Casework's subscriptions: e-applications and citizens' contact details from intake;
messages to journal, and deliveries to the e-service done or refused, from messaging;
providers and their units, executions of orders, and clients' absences, from provider."""

from casework.documents import service as documents
from casework.e_applications import service as e_applications
from casework.fees import service as fees
from casework.journal import service as journal
from casework.orders import service as orders
from casework.persons import service as persons
from casework.providers import service as providers
from shared.contracts import intake, messaging, provider
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    consumer.subscribe(
        intake.APPLICATIONS_TOPIC, {intake.ApplicationSubmitted: e_applications.receive_application}
    )
    consumer.subscribe(
        intake.CITIZENS_TOPIC, {intake.ContactDetailsChanged: persons.on_contact_details_changed}
    )
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(
        messaging.MESSAGES_TOPIC,
        {
            messaging.MessageJournalRequested: journal.on_journal_requested,
            messaging.EServiceDeliveryDone: documents.on_delivery_done,
            messaging.EServiceDeliveryRefused: documents.on_delivery_refused,
        },
    )
    consumer.subscribe(
        provider.PROVIDERS_TOPIC,
        {
            provider.ProviderRegistered: providers.on_provider_registered,
            provider.ProviderUnitAdded: providers.on_unit_added,
        },
    )
    consumer.subscribe(
        provider.ORDERS_TOPIC,
        {
            provider.ExecutionStarted: orders.on_execution_started,
            provider.ExecutionEnded: orders.on_execution_ended,
        },
    )
    consumer.subscribe(
        provider.ABSENCES_TOPIC,
        {provider.AbsenceRegistered: fees.on_absence, provider.AbsenceEnded: fees.on_absence},
    )
