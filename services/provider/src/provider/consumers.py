"""Provider's subscriptions: casework's orders (OrderPlaced) become the units'
orders (provider.orders)."""

from provider.orders import service as orders
from shared.contracts import casework as cw
from shared.inbox import InboxConsumer


def subscribe(consumer: InboxConsumer) -> None:
    # One subscription per topic: two in one consumer group would split its partitions.
    consumer.subscribe(cw.ORDERS_TOPIC, {cw.OrderPlaced: orders.on_order_placed})
