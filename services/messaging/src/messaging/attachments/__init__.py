"""Attachments of messages (MS-4, MS-5): streamed in and out, stored in PostgreSQL."""
