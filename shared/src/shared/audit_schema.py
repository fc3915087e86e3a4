"""Audit-log schema changes after the first migration (hash chain, grants)."""

from __future__ import annotations


def harden_audit_log() -> None:
    pass  # filled in by the audit hardening


def unharden_audit_log() -> None:
    pass
