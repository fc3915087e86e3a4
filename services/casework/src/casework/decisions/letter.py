"""The decision letter (beslutsbrev, CW-9) as a PDF layout: Swedish, under the
municipality's header, with the decision, its period and extent for a grant, the
legal basis, the decision-maker and how to appeal to the administrative court
(förvaltningsrätten) and by when. Plain domain code: it describes the letter,
shared.pdf renders it.

The recipient's address is in the facts only when the letter may show it (see
`decisions.service`): a person with protected identity's address never appears
in a letter that goes anywhere but to themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from shared.pdf import PdfDocument, Section

APPEAL_WEEKS = 3  # förvaltningslagen 44 §: within three weeks of receiving the decision

_OUTCOME_LINES = {
    "Beviljad": "Du beviljas {service}.",
    "Delvis beviljad": "Du beviljas delvis {service}.",
    "Avslag": "Din ansökan om {service} avslås.",
}


@dataclass(frozen=True)
class Letterhead:
    """The municipality's header (settings): its name and postal address lines."""

    name: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class Corrected:
    """The earlier decision a correction replaces."""

    decision_id: uuid.UUID
    decided_on: date


@dataclass(frozen=True)
class LetterFacts:
    """Everything a decision letter shows; all of it plain text."""

    decision_id: uuid.UUID
    letterhead: Letterhead
    person_name: str
    pnr: str  # 12 digits
    address: tuple[str, ...] | None  # None: not shown (protected identity, or none known)
    service_name: str
    outcome: str
    text: str
    legal_basis: str
    decided_on: date
    period_from: date | None
    period_to: date | None
    extent: str | None
    decided_by: str | None  # None: a draft, not signed yet
    unit: str
    corrects: Corrected | None


def appeal_by(decided_on: date) -> date:
    """The last day of the appeal when the decision is received on the day it was
    made: three weeks on, a Saturday or Sunday moved to the Monday after (as the
    law on computing statutory time does; public holidays are not counted here).
    A guide for the reader: the time really counts from the day they received it."""
    last = decided_on + timedelta(weeks=APPEAL_WEEKS)
    return last + timedelta(days=(7 - last.weekday()) % 7) if last.weekday() >= 5 else last


def _pnr(pnr: str) -> str:
    return f"{pnr[:8]}-{pnr[8:]}"


def _appeal(facts: LetterFacts) -> tuple[str, ...]:
    to = ", ".join((facts.letterhead.name, *facts.letterhead.address))
    return (
        "Om du inte är nöjd med beslutet kan du överklaga det till förvaltningsrätten. "
        "Skriv vilket beslut du överklagar, varför du tycker att det är fel och hur du vill "
        "att det ska ändras. Skriv under överklagandet och skicka det till " + to + ". "
        "Kommunen prövar först om beslutet ska ändras och skickar sedan överklagandet "
        "vidare till förvaltningsrätten.",
        "Överklagandet ska ha kommit in till kommunen inom tre veckor från den dag du fick "
        "del av beslutet. Om du fick del av beslutet samma dag som det fattades "
        f"({facts.decided_on.isoformat()}) ska överklagandet ha kommit in senast "
        f"{appeal_by(facts.decided_on).isoformat()}.",
    )


def decision_letter(facts: LetterFacts) -> PdfDocument:
    """The letter's layout, to render with shared.pdf."""
    recipient = [f"{facts.person_name}, {_pnr(facts.pnr)}", *(facts.address or ())]
    decision = [_OUTCOME_LINES[facts.outcome].format(service=facts.service_name.lower())]
    if facts.period_from is not None and facts.period_to is not None:
        decision.append(f"Period: {facts.period_from.isoformat()} \N{EN DASH} {facts.period_to.isoformat()}")
    if facts.extent:
        decision.append(f"Omfattning: {facts.extent}")
    sections = [
        Section(facts.letterhead.name, facts.letterhead.address),
        Section("Till", tuple(recipient)),
        Section("Datum", (facts.decided_on.isoformat(),)),
        Section("Ärende", (facts.service_name,)),
        Section("Beslut", tuple(decision)),
    ]
    if facts.corrects is not None:
        sections.append(
            Section(
                "Rättelse",
                (
                    f"Detta beslut ersätter beslutet av {facts.corrects.decided_on.isoformat()} "
                    f"(beslut-id {facts.corrects.decision_id}).",
                ),
            )
        )
    sections += [
        Section("Motivering", (facts.text,)),
        Section("Lagrum", (facts.legal_basis,)),
        Section("Beslutsfattare", (f"{facts.decided_by or 'Ej signerat'}, {facts.unit}",)),
        Section("Så här överklagar du", _appeal(facts)),
    ]
    draft = facts.decided_by is None
    return PdfDocument(
        title="Utkast till beslut" if draft else "Beslut",
        sections=tuple(sections),
        footnote=f"{facts.letterhead.name}. Beslut-id {facts.decision_id}."
        + (" Utkast: inte signerat, inte ett beslut." if draft else ""),
        metadata_title=f"Beslut om {facts.service_name.lower()}",
        author=facts.letterhead.name,
    )
