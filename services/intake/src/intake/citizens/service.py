"""Mina sidor (IN-6): the citizen's contact details, which casework and notify
follow (ContactDetailsChanged, NT-3), and their contacts: the caseworkers of
their ongoing matters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from intake.citizens import repository
from intake.citizens.schemas import ContactOut, ProfileOut, ProfileUpdate
from intake.config import SOURCE
from shared import audit
from shared.auth import User
from shared.contracts.casework import CaseworkerAssigned
from shared.contracts.intake import ContactDetailsChanged
from shared.events import Envelope
from shared.outbox import add_event

ContactField = Literal["mobile", "email"]


def _entry(user: User, action: str, object_type: str = "profile") -> audit.AuditEntry:
    return audit.AuditEntry(
        actor=user.sub,
        actor_role="citizen",
        action=action,
        object_type=object_type,
        subject_pnr=str(user.pnr),
    )


async def get_profile(session: AsyncSession, user: User) -> ProfileOut:
    """The citizen's contact details as they last set them."""
    profile = await repository.profile(session, str(user.pnr))
    await audit.record(session, _entry(user, "read"))
    if profile is None:
        return ProfileOut(citizen_id=None, name=user.name, mobile=None, email=None, updated_at=None)
    return ProfileOut(
        citizen_id=profile.id,
        name=user.name,
        mobile=profile.mobile,
        email=profile.email,
        updated_at=profile.updated_at,
    )


async def update_profile(session: AsyncSession, user: User, update: ProfileUpdate) -> ProfileOut:
    """Change mobile and e-mail; an actual change is announced to casework."""
    now = datetime.now(UTC)
    await repository.create_profile_if_missing(
        session, {"id": uuid.uuid4(), "pnr": str(user.pnr), "updated_at": now}
    )
    profile = await repository.locked_profile(session, str(user.pnr))
    assert profile is not None and user.pnr is not None  # inserted above; a Citizen has a pnr
    fields: tuple[ContactField, ...] = ("mobile", "email")
    changed = [
        f for f in fields if f in update.model_fields_set and getattr(profile, f) != getattr(update, f)
    ]
    for field in changed:
        setattr(profile, field, getattr(update, field))
    if changed:
        profile.updated_at = now
        profile.version += 1  # under the row lock: consumers order this citizen's changes by it
        await add_event(
            session,
            ContactDetailsChanged(
                citizen_id=profile.id,
                pnr=user.pnr,
                changed=changed,
                mobile=profile.mobile,
                email=profile.email,
                changed_at=now,
                version=profile.version,
            ),
            SOURCE,
        )
    await audit.record(session, _entry(user, "update"))
    return ProfileOut(
        citizen_id=profile.id,
        name=user.name,
        mobile=profile.mobile,
        email=profile.email,
        updated_at=profile.updated_at,
    )


async def list_contacts(session: AsyncSession, user: User) -> list[ContactOut]:
    """Names of the caseworkers on the citizen's ongoing matters."""
    rows = await repository.contacts(session, str(user.pnr))
    await audit.record(session, _entry(user, "list", "contact"))
    return [ContactOut(caseworker_name=r.caseworker_name, unit=r.unit, since=r.assigned_at) for r in rows]


async def on_caseworker_assigned(
    session: AsyncSession, event: CaseworkerAssigned, envelope: Envelope
) -> None:
    """Keep the citizen's contacts in step with casework's assignments."""
    await repository.upsert_contact(
        session,
        {
            "record_id": event.record_id,
            "citizen_pnr": str(event.citizen_pnr),
            "caseworker_id": event.caseworker_id,
            "caseworker_name": event.caseworker_name,
            "unit": event.unit,
            "assigned_at": event.assigned_at,
        },
    )
    await audit.record(
        session, audit.from_event(envelope, "update", "contact", event.record_id, event.citizen_pnr)
    )
