"""Who is calling, as messaging tells them apart: staff (of the municipality or
of a provider) use personal and group mailboxes; citizens, and related persons
acting for one, use the citizen's e-service mailbox. One place for the role
names the audit log and the messages record."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from messaging.models import AuthorRole
from shared.auth import PROVIDER_ROLES, Role, User, require_role

# Staff who have a personal mailbox and may use their units' group mailboxes.
MAILBOX_ROLES = (
    Role.CASEWORKER,
    Role.FEE_ADMINISTRATOR,
    Role.MESSAGING_ADMIN,
    Role.ADMIN,
    Role.PROVIDER,
    Role.PROVIDER_MANAGER,
)

Staff = Annotated[User, Depends(require_role(*MAILBOX_ROLES))]


def staff_role(user: User) -> AuthorRole:
    """The role a staff member writes and reads messages in."""
    if user.has(Role.CASEWORKER):
        return AuthorRole.CASEWORKER
    if user.roles & PROVIDER_ROLES:
        return AuthorRole.PROVIDER
    return AuthorRole.STAFF


def pnr_label(name: str, pnr: str) -> str:
    """A citizen as staff see them: the personnummer after the name (MS-2)."""
    return f"{name} ({pnr[:8]}-{pnr[8:]})"
