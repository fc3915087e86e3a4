"""Casework's subscription to intake's applications."""

from casework.e_applications import service
from shared.contracts.intake import APPLICATIONS_TOPIC, ApplicationSubmitted
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    consumer.subscribe(APPLICATIONS_TOPIC, {ApplicationSubmitted: service.receive_application})
