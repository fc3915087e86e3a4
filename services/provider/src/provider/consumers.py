"""Provider's subscriptions: casework's orders (OrderPlaced) become the units'
orders (provider.orders); messaging's EServiceDeliveryDone marks a document sent
to the e-service delivered, its EServiceDeliveryRefused marks it refused, to go by
post (provider.documents; casework's deliveries are ignored)."""

from provider.documents import service as documents
from provider.orders import service as orders
from shared.contracts import casework as cw
from shared.contracts import messaging as ms
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(cw.ORDERS_TOPIC, {cw.OrderPlaced: orders.on_order_placed})
    consumer.subscribe(
        ms.MESSAGES_TOPIC,
        {
            ms.EServiceDeliveryDone: documents.on_delivery_done,
            ms.EServiceDeliveryRefused: documents.on_delivery_refused,
        },
    )
