"""Casework's subscriptions: e-applications and citizens' contact details from intake;
messages to journal, and deliveries to the e-service done, from messaging."""

from casework.documents import service as documents
from casework.e_applications import service as e_applications
from casework.journal import service as journal
from casework.persons import service as persons
from shared.contracts import intake, messaging
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
        },
    )
