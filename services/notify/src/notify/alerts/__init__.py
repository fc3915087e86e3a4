"""Alerts: planning (trigger → alerts per recipient and channel, coalescing,
quiet hours), templates, the alert tables' queries, and the operations endpoints."""
