"""Deliveries to the e-service (CW-9, MS-10): casework asks messaging to deliver a
decision letter or a document into the citizen's e-service mailbox
(EServiceDeliveryRequested); messaging fetches the PDF from casework through
the request's capability URL (shared.capability_fetch: streamed into the
attachment store, its size and SHA-256 checked), sends it as a message from the
caseworker's personal mailbox (created if they never used messaging) to the
citizen's e-service mailbox, announces it to notify (MessageDeliveredToEService
with the request's kind) and answers casework (EServiceDeliveryDone).

The handler runs in the inbox consumer's transaction: the attachment, the
message, the delivery row, the audit entries and both events commit together or
not at all. A fetch that fails for the infrastructure (casework away, the
stream cut short) pauses the partition and is retried without limit; a refused
fetch (the link spent, not the announced file) is retried a few times and then
dead-lettered. Each delivery is delivered (or refused) once: a replayed request
creates no second message, it only answers again.

Casework checked that the person's message function is on. When messaging's
projection of it (EServiceSettingsChanged, on another topic) has not caught up
with what casework saw, the request waits (`ProjectionBehind`, retried like an
infrastructure failure) up to PROJECTION_GRACE after it was made; when the
function was turned off after the request (or the settings never came), the
delivery is recorded as refused and answered so (EServiceDeliveryRefused): the
caseworker sees the document must go by post.

Provider staff send a document of an assignment the same way
(ProviderDocumentDeliveryRequested on `provider.orders.v1`, PR-10): the PDF is
fetched from provider's capability route (`/document-fetch/`), the message is
from the provider user's personal mailbox, and the right to send is the
provider assignment (messaging.rights, MS-3): the unit's assignment for the
client must be running when the request is handled, else the delivery is
refused (audited, answered EServiceDeliveryRefused) and nothing is delivered; so
is a person without an active e-service, at once (provider cannot see it, so
nothing waits for it). The answer's `document_id` is then the provider's document."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.attachments import service as attachments
from messaging.config import SOURCE
from messaging.deliveries import repository
from messaging.deliveries.models import DeliveryStatus, EServiceDelivery
from messaging.deliveries.settings import DeliveriesConfig, config
from messaging.mailboxes import service as mailboxes
from messaging.messages import delivering as messages
from messaging.models import AuthorRole
from messaging.rights import service as rights
from shared import audit
from shared.auth import Role, User
from shared.capability_fetch import Announced, CapabilityFetcher
from shared.contracts.casework import EServiceDeliveryRequested
from shared.contracts.messaging import EServiceDeliveryDone, EServiceDeliveryRefused
from shared.contracts.provider import ProviderDocumentDeliveryRequested
from shared.events import Envelope
from shared.outbox import add_event
from shared.problems import Conflict

# How long a request waits for the e-service settings casework acted on to reach
# messaging (another topic) before it is refused: a while, never for ever.
PROJECTION_GRACE = timedelta(minutes=10)


class ProjectionBehind(ConnectionError):
    """Messaging has not yet applied the e-service settings casework acted on: try
    again later (a ConnectionError, so the inbox pauses instead of dead-lettering)."""


async def on_delivery_requested(
    session: AsyncSession, event: EServiceDeliveryRequested, envelope: Envelope
) -> None:
    """The consumer's handler: deliver with the configured fetcher."""
    await deliver(session, event, envelope, config())


def _sender(event: EServiceDeliveryRequested) -> User:
    """The caseworker the message is from, as the request names them."""
    return User(
        sub=event.caseworker_id,
        name=event.caseworker_name,
        roles=frozenset({Role.CASEWORKER}),
        units=(event.unit,),
    )


async def _record_refusal(
    session: AsyncSession, row: EServiceDelivery, envelope: Envelope, pnr: str | None
) -> EServiceDelivery:
    """Keep a refused delivery, audit it as refused and answer the requester (either kind)."""
    await repository.add(session, row)
    entry = audit.from_event(envelope, "deliver", "e_service_mailbox", row.person_id, pnr)
    await audit.record(session, replace(entry, outcome="refused", reason=row.reason))
    await _answer_refused(session, row)
    return row


async def _refuse(
    session: AsyncSession, event: EServiceDeliveryRequested, envelope: Envelope, pnr: str | None, reason: str
) -> EServiceDelivery:
    row = EServiceDelivery(
        delivery_id=event.delivery_id,
        kind=event.kind,
        document_id=event.file.document_id,
        record_id=event.record_id,
        person_id=event.person_id,
        caseworker_id=event.caseworker_id,
        status=DeliveryStatus.REFUSED,
        reason=reason,
        requested_at=event.requested_at,
        handled_at=datetime.now(UTC),
    )
    return await _record_refusal(session, row, envelope, pnr)


async def deliver(
    session: AsyncSession, event: EServiceDeliveryRequested, envelope: Envelope, settings: DeliveriesConfig
) -> EServiceDelivery:
    """Deliver the PDF as a message into the person's e-service mailbox, once; the delivery."""
    existing = await repository.get(session, event.delivery_id)
    if existing is not None:
        await _answer_again(session, existing)
        return existing
    person = await mailboxes.e_service_person(session, event.person_id)
    if person is None or (not person.messages_enabled and person.changed_at < event.requested_at):
        if datetime.now(UTC) - event.requested_at < PROJECTION_GRACE:
            raise ProjectionBehind("the person's e-service settings have not reached messaging yet")
        # Waiting longer would hold up every other event of the partition.
        return await _refuse(
            session, event, envelope, person.pnr if person else None, "the e-service settings never arrived"
        )
    try:
        citizen, person = await mailboxes.active_citizen(session, event.person_id)
    except Conflict:
        return await _refuse(
            session, event, envelope, person.pnr, "the message function was turned off after the request"
        )
    sender = _sender(event)
    file = event.file
    async with settings.fetcher.open(Announced(file.document_id, file.url, file.size, file.sha256)) as pieces:
        uploaded = await attachments.upload(
            session, sender, file.filename, file.content_type, pieces, settings.limits
        )
    message = await messages.send_to_e_service(
        session, sender, citizen, person, event.message_subject, event.message_text, [uploaded.id], event.kind
    )
    row = EServiceDelivery(
        delivery_id=event.delivery_id,
        kind=event.kind,
        document_id=file.document_id,
        record_id=event.record_id,
        person_id=event.person_id,
        caseworker_id=event.caseworker_id,
        status=DeliveryStatus.DELIVERED,
        message_id=message.id,
        mailbox_id=citizen.id,
        requested_at=event.requested_at,
        handled_at=message.sent_at or datetime.now(UTC),
    )
    await repository.add(session, row)
    await audit.record(session, audit.from_event(envelope, "deliver", "message", message.id, person.pnr))
    await _answer(session, row)
    return row


async def _answer(session: AsyncSession, delivery: EServiceDelivery) -> None:
    """EServiceDeliveryDone: the message is in the mailbox (delivered now, or before)."""
    assert delivery.message_id is not None and delivery.mailbox_id is not None  # delivered
    await add_event(
        session,
        EServiceDeliveryDone(
            delivery_id=delivery.delivery_id,
            document_id=delivery.document_id,
            message_id=delivery.message_id,
            mailbox_id=delivery.mailbox_id,
            person_id=delivery.person_id,
            delivered_at=delivery.handled_at,
        ),
        SOURCE,
    )


async def _answer_refused(session: AsyncSession, delivery: EServiceDelivery) -> None:
    """EServiceDeliveryRefused: nothing was delivered; the requester sends it by post."""
    assert delivery.reason is not None  # refused
    await add_event(
        session,
        EServiceDeliveryRefused(
            delivery_id=delivery.delivery_id,
            document_id=delivery.document_id,
            person_id=delivery.person_id,
            reason=delivery.reason,
            refused_at=delivery.handled_at,
        ),
        SOURCE,
    )


async def _answer_again(session: AsyncSession, delivery: EServiceDelivery) -> None:
    """A replayed request: the answer it had, again (its consumers ignore a replay)."""
    if delivery.status == DeliveryStatus.DELIVERED:
        await _answer(session, delivery)
    elif delivery.status == DeliveryStatus.REFUSED:
        await _answer_refused(session, delivery)


# ---- provider documents (PR-10) -----------------------------------------------------


async def on_provider_delivery_requested(
    session: AsyncSession, event: ProviderDocumentDeliveryRequested, envelope: Envelope
) -> None:
    """The consumer's handler: deliver a provider document with the configured fetcher."""
    settings = config()
    assert settings.provider_fetcher is not None  # config() always makes one
    await deliver_provider_document(session, event, envelope, settings.provider_fetcher, settings)


def _provider_sender(event: ProviderDocumentDeliveryRequested) -> User:
    """The provider user the message is from, as the request names them."""
    return User(
        sub=event.sender_sub,
        name=event.sender_name,
        roles=frozenset({Role.PROVIDER}),
        units=(event.unit,),
        provider_id=str(event.provider_id),
    )


async def _refuse_provider(
    session: AsyncSession,
    event: ProviderDocumentDeliveryRequested,
    envelope: Envelope,
    pnr: str | None,
    reason: str,
) -> EServiceDelivery:
    row = EServiceDelivery(
        delivery_id=event.delivery_id,
        kind="document",
        document_id=event.file.document_id,
        record_id=None,
        order_id=event.order_id,
        person_id=event.person_id,
        caseworker_id=event.sender_sub,
        status=DeliveryStatus.REFUSED,
        reason=reason,
        requested_at=event.requested_at,
        handled_at=datetime.now(UTC),
    )
    return await _record_refusal(session, row, envelope, pnr)


async def deliver_provider_document(
    session: AsyncSession,
    event: ProviderDocumentDeliveryRequested,
    envelope: Envelope,
    fetcher: CapabilityFetcher,
    settings: DeliveriesConfig,
) -> EServiceDelivery:
    """Deliver a provider document's PDF as a message from the provider user into the
    person's e-service mailbox, once, if the unit's assignment runs; the delivery."""
    existing = await repository.get(session, event.delivery_id)
    if existing is not None:
        await _answer_again(session, existing)
        return existing
    person = await mailboxes.e_service_person(session, event.person_id)
    pnr = person.pnr if person else None
    sender = _provider_sender(event)
    if not await rights.may_write(session, sender, event.person_id):
        return await _refuse_provider(
            session, event, envelope, pnr, "the unit has no running assignment for the person"
        )
    # Provider cannot see whether the person has an e-service (casework checks that
    # before it asks): none known here is refused at once, never waited for, so one
    # request cannot hold up the executions behind it on provider.orders.v1.
    if person is None:
        return await _refuse_provider(session, event, envelope, None, "the person has no e-service")
    try:
        citizen, person = await mailboxes.active_citizen(session, event.person_id)
    except Conflict:
        return await _refuse_provider(session, event, envelope, person.pnr, "the person's e-service is off")
    file = event.file
    async with fetcher.open(Announced(file.document_id, file.url, file.size, file.sha256)) as pieces:
        uploaded = await attachments.upload(
            session, sender, file.filename, file.content_type, pieces, settings.limits
        )
    message = await messages.send_to_e_service(
        session,
        sender,
        citizen,
        person,
        event.message_subject,
        event.message_text,
        [uploaded.id],
        "document",
        author_role=AuthorRole.PROVIDER,
    )
    row = EServiceDelivery(
        delivery_id=event.delivery_id,
        kind="document",
        document_id=file.document_id,
        record_id=None,
        order_id=event.order_id,
        person_id=event.person_id,
        caseworker_id=event.sender_sub,
        status=DeliveryStatus.DELIVERED,
        message_id=message.id,
        mailbox_id=citizen.id,
        requested_at=event.requested_at,
        handled_at=message.sent_at or datetime.now(UTC),
    )
    await repository.add(session, row)
    await audit.record(session, audit.from_event(envelope, "deliver", "message", message.id, person.pnr))
    await _answer(session, row)
    return row
