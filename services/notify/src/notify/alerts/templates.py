"""The alerts' texts (NT-4): fixed Swedish templates without confidential content.

No names, no subjects, nothing about the kind of care, never an address: the
same words for everyone, persons with protected identity included. Only what
landed in the e-service (a message, a decision, a document) and whether it was
one or several. A related person is told only that there is something new for a
person they represent. E-mail is plain text with a fixed subject."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from notify.models import AlertKind, Recipient

SUBJECT = "Nytt i Omsorgs e-tjänst"
_READ = "Logga in i e-tjänsten för att läsa det."

_ONE = {
    AlertKind.MESSAGE: "Du har fått ett nytt meddelande från Omsorg.",
    AlertKind.DECISION: "Du har fått ett nytt beslut från Omsorg.",
    AlertKind.DOCUMENT: "Du har fått ett nytt dokument från Omsorg.",
}
_SEVERAL = {
    AlertKind.MESSAGE: "Du har fått nya meddelanden från Omsorg.",
    AlertKind.DECISION: "Du har fått nya beslut från Omsorg.",
    AlertKind.DOCUMENT: "Du har fått nya dokument från Omsorg.",
}
_MIXED = "Du har fått nya meddelanden och handlingar från Omsorg."
_READ_SEVERAL = "Logga in i e-tjänsten för att läsa dem."
_RELATED = "Det finns nytt i Omsorgs e-tjänst för en person du företräder."


@dataclass(frozen=True)
class AlertText:
    """What an alert says: the text (SMS and e-mail body) and the e-mail subject."""

    subject: str
    text: str


def render(
    recipient: Recipient | str, kinds: Collection[AlertKind | str], *, several: bool = False
) -> AlertText:
    """The alert's text for `recipient`, telling about triggers of `kinds` (one per
    trigger); `several` for a coalesced follow-up even if it gathered one trigger."""
    if recipient == Recipient.RELATED:
        return AlertText(SUBJECT, f"{_RELATED} {_READ}")
    distinct = {AlertKind(k) for k in kinds} or {AlertKind.MESSAGE}
    if len(kinds) <= 1 and not several:
        return AlertText(SUBJECT, f"{_ONE[next(iter(distinct))]} {_READ}")
    if len(distinct) == 1:
        return AlertText(SUBJECT, f"{_SEVERAL[next(iter(distinct))]} {_READ_SEVERAL}")
    return AlertText(SUBJECT, f"{_MIXED} {_READ_SEVERAL}")
