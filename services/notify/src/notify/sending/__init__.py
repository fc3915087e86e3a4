"""Sending: the sender worker that claims due alerts from the database and hands
them to the SMS gateway or the SMTP relay, retries with backoff, gives up and
falls back to the other channel, and the gateway's delivery reports."""
