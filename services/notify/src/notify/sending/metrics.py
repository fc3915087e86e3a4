"""What the sender counts (Prometheus, served by shared.health's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SENDS = Counter(
    "omsorg_notify_sends_total",
    "Send attempts by channel and what the gateway or relay answered",
    ["channel", "outcome"],  # accepted | temporary_failure | permanent_failure
)
OUTCOMES = Counter(
    "omsorg_notify_alert_outcomes_total",
    "Alerts that reached their end, by channel",
    ["channel", "outcome"],  # delivered | given_up
)
FALLBACKS = Counter(
    "omsorg_notify_fallbacks_total", "Fallback alerts created, by the channel they use", ["channel"]
)
DELIVERY_REPORTS = Counter(
    "omsorg_notify_delivery_reports_total",
    "Delivery reports from the SMS gateway by what became of them",
    ["outcome"],  # recorded | ignored | refused
)
# From the earliest trigger (the delivery into the e-service mailbox) to the
# gateway's or relay's acceptance: coalescing and quiet hours included, hence
# buckets up to half a day.
DELIVERY_LATENCY = Histogram(
    "omsorg_notify_delivery_latency_seconds",
    "From the delivery into the e-service mailbox to the gateway or relay accepting the alert",
    ["channel"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600),
)
