"""What an alert says (NT-4): fixed Swedish texts without names, subjects, kinds
of care or addresses, for persons with protected identity too; plural for a
follow-up; a related person only learns that there is something new."""

from __future__ import annotations

import re
from typing import Any

import pytest

from notify.alerts import service
from notify.alerts.templates import SUBJECT, render

_READ_ONE = "Logga in i e-tjänsten för att läsa det."
_READ_MORE = "Logga in i e-tjänsten för att läsa dem."


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("message", f"Du har fått ett nytt meddelande från Omsorg. {_READ_ONE}"),
        ("decision", f"Du har fått ett nytt beslut från Omsorg. {_READ_ONE}"),
        ("document", f"Du har fått ett nytt dokument från Omsorg. {_READ_ONE}"),
    ],
)
async def test_the_citizen_is_told_what_arrived_and_nothing_more(world: Any, kind: str, text: str) -> None:
    person = await world.person(sms=world.number())
    await world.deliver(person, kind=kind)

    (alert,) = await world.alerts(person)
    assert await service.text_of(world.session, alert) == render("citizen", [kind])
    assert render("citizen", [kind]).text == text


async def test_a_follow_up_speaks_in_the_plural(world: Any, clock: Any) -> None:
    person = await world.person(email=world.email())
    await world.deliver(person)
    await world.sent(person)
    clock.advance(10)
    await world.deliver(person)  # the follow-up, with one trigger so far

    _, follow_up = await world.alerts(person)
    said = await service.text_of(world.session, follow_up)
    assert said.text == f"Du har fått nya meddelanden från Omsorg. {_READ_MORE}"
    assert said.subject == SUBJECT == "Nytt i Omsorgs e-tjänst"


def test_several_kinds_together_name_none_of_them() -> None:
    assert render("citizen", ["message", "decision"]).text == (
        f"Du har fått nya meddelanden och handlingar från Omsorg. {_READ_MORE}"
    )
    assert (
        render("citizen", ["decision", "decision"]).text
        == f"Du har fått nya beslut från Omsorg. {_READ_MORE}"
    )


async def test_a_related_person_is_told_only_that_there_is_something_new(world: Any) -> None:
    related = world.related(sms_number=world.number())
    person = await world.person(recipients="related", related=[related])
    await world.approve(person, related)
    await world.deliver(person, kind="decision")

    (alert,) = await world.alerts(person)
    said = await service.text_of(world.session, alert)
    assert said.text == (
        "Det finns nytt i Omsorgs e-tjänst för en person du företräder. "
        "Logga in i e-tjänsten för att läsa det."
    )


async def test_a_person_with_protected_identity_gets_the_same_words_as_anyone(world: Any) -> None:
    number, email = world.number(), world.email()
    person = await world.person(sms=number, email=email, protected_identity=True)
    await world.deliver(person)

    for alert in await world.alerts(person):
        said = await service.text_of(world.session, alert)
        assert said == render("citizen", ["message"])
        for secret in (number, email, person.pnr, "Annika", "Test"):
            assert secret not in said.text and secret not in said.subject


@pytest.mark.parametrize("recipient", ["citizen", "related"])
@pytest.mark.parametrize("kinds", [["message"], ["decision"], ["document"], ["message", "document"]])
def test_no_text_carries_a_digit_an_address_or_a_link(recipient: str, kinds: list[str]) -> None:
    for several in (False, True):
        said = render(recipient, kinds, several=several)
        assert not re.search(r"[0-9@]|https?:", said.text + said.subject)
        assert len(said.text) <= 160  # one SMS part
