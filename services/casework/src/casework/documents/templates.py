"""Document templates (mallar, CW-10): letters filled with the person's data and
the caseworker's, plus the fields the caseworker gives (a visit's date and time,
a letter's text). Plain domain code: no framework, no database.

The person's address is in the facts only when the letter may show it (see
`documents.service`): for a person with protected identity the address block
says the letter goes through Skatteverket, which forwards post to them, unless
the writer holds the protected-identity permission."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.fields import trim

FieldKind = Literal["text", "date", "time"]
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
PROTECTED_ADDRESS = "Skyddad adress: brevet skickas via Skatteverket, som vidarebefordrar det."


@dataclass(frozen=True)
class TemplateField:
    """A value the caseworker gives: plain text, a date (YYYY-MM-DD) or a time (HH:MM)."""

    name: str
    label: str
    kind: FieldKind = "text"


@dataclass(frozen=True)
class Template:
    """A template: the document's type and title, and its text with {placeholders}:
    the person's and sender's facts (`FACTS`) and its own fields."""

    name: str
    doc_type: str
    title: str
    body: str
    fields: tuple[TemplateField, ...] = ()


@dataclass(frozen=True)
class PersonFacts:
    """The person as a letter names them. `address` None: withheld (protected identity)."""

    name: str
    pnr: str  # 12 digits
    kundnummer: str
    address: tuple[str, ...] | None


@dataclass(frozen=True)
class SenderFacts:
    """Who writes: the caseworker, their unit and the municipality."""

    caseworker: str
    unit: str
    municipality: str


@dataclass(frozen=True)
class Filled:
    """A filled template: what the new document is."""

    doc_type: str
    title: str
    text: str


class TemplateFieldsInvalid(Exception):
    """Fields missing, unknown or malformed: `problems` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("template fields invalid")
        self.problems = problems


# The facts every template may use (besides its own fields).
FACTS = ("namn", "personnummer", "kundnummer", "mottagare", "dagens_datum", "handlaggare", "enhet", "kommun")

_GREETING = "Med vänliga hälsningar\n{handlaggare}\n{enhet}, {kommun}"

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            name="Brev",
            doc_type="Brev",
            title="{rubrik}",
            body="{mottagare}\n\n{dagens_datum}\n\n{rubrik}\n\n{text}\n\n" + _GREETING,
            fields=(TemplateField("rubrik", "Rubrik"), TemplateField("text", "Text")),
        ),
        Template(
            name="Kallelse till hembesök",
            doc_type="Kallelse",
            title="Kallelse till hembesök",
            body=(
                "{mottagare}\n\n{dagens_datum}\n\nKallelse till hembesök\n\n"
                "Hej {namn}!\n\n"
                "Vi vill träffa dig hemma hos dig för att prata om din ansökan "
                "och vilket stöd du behöver.\n\n"
                "Tid: {datum} klockan {tid}\n"
                "Handläggare: {handlaggare}\n\n"
                "Du får gärna ha en anhörig eller någon annan med dig vid besöket. Passar tiden inte, "
                "hör av dig till oss så bokar vi en ny.\n\n" + _GREETING
            ),
            fields=(TemplateField("datum", "Datum", "date"), TemplateField("tid", "Tid", "time")),
        ),
        Template(
            name="Kallelse till möte",
            doc_type="Kallelse",
            title="Kallelse till möte",
            body=(
                "{mottagare}\n\n{dagens_datum}\n\nKallelse till möte\n\n"
                "Hej {namn}!\n\n"
                "Välkommen till ett möte om ditt ärende.\n\n"
                "Tid: {datum} klockan {tid}\n"
                "Plats: {plats}\n\n"
                "Passar tiden inte, hör av dig till oss så bokar vi en ny.\n\n" + _GREETING
            ),
            fields=(
                TemplateField("datum", "Datum", "date"),
                TemplateField("tid", "Tid", "time"),
                TemplateField("plats", "Plats"),
            ),
        ),
        Template(
            name="Begäran om komplettering",
            doc_type="Brev",
            title="Begäran om komplettering",
            body=(
                "{mottagare}\n\n{dagens_datum}\n\nBegäran om komplettering\n\n"
                "Hej {namn}!\n\n"
                "För att kunna utreda din ansökan behöver vi följande från dig:\n{handlingar}\n\n"
                "Skicka in det senast {senast}. Du kan skicka det som ett meddelande i e-tjänsten "
                "eller med post.\n\n" + _GREETING
            ),
            fields=(TemplateField("handlingar", "Handlingar"), TemplateField("senast", "Senast", "date")),
        ),
        Template(
            name="Information om utredning",
            doc_type="Brev",
            title="Information om utredning",
            body=(
                "{mottagare}\n\n{dagens_datum}\n\nInformation om utredning\n\n"
                "Hej {namn}!\n\n"
                "Vi har börjat utreda din ansökan. Din handläggare är {handlaggare}. Vi hör av oss om "
                "vi behöver veta mer, och du får ett skriftligt beslut när utredningen är klar.\n\n"
                + _GREETING
            ),
        ),
    )
}


def swedish_date(day: date) -> str:
    """As a Swedish letter writes a date: "3 december 2026"."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


# Exactly what the OpenAPI document states for a date or time field (documents.schemas):
# fromisoformat alone takes 20261203 too, strptime 9:5.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _value(field: TemplateField, given: str) -> str:
    if field.kind == "date":
        if not re.fullmatch(DATE_PATTERN, given):
            raise ValueError("not YYYY-MM-DD")
        return swedish_date(date.fromisoformat(given))  # ValueError: no such day
    if field.kind == "time":
        if not re.fullmatch(TIME_PATTERN, given):
            raise ValueError("not HH:MM")
        return datetime.strptime(given, "%H:%M").strftime("%H.%M")
    return given


def _address_block(person: PersonFacts) -> str:
    lines = [person.name, *(person.address if person.address is not None else (PROTECTED_ADDRESS,))]
    return "\n".join(lines)


def fill(
    template: Template, person: PersonFacts, sender: SenderFacts, fields: Mapping[str, str], today: date
) -> Filled:
    """The document the template makes; TemplateFieldsInvalid naming every field
    missing (or empty), unknown or malformed."""
    own = {f.name: f for f in template.fields}
    problems = {name: "not a field of this template" for name in fields if name not in own}
    values: dict[str, str] = {}
    for name, field in own.items():
        # A text is trimmed; a date or time is taken exactly as written (as the schema states).
        given = trim(fields.get(name, "")) if field.kind == "text" else fields.get(name, "")
        if not given:
            problems[name] = "missing"
            continue
        try:
            values[name] = _value(field, given)
        except ValueError:
            problems[name] = "not a date (YYYY-MM-DD)" if field.kind == "date" else "not a time (HH:MM)"
    if problems:
        raise TemplateFieldsInvalid(dict(sorted(problems.items())))
    facts = {
        "namn": person.name,
        "personnummer": f"{person.pnr[:8]}-{person.pnr[8:]}",
        "kundnummer": person.kundnummer,
        "mottagare": _address_block(person),
        "dagens_datum": swedish_date(today),
        "handlaggare": sender.caseworker,
        "enhet": sender.unit,
        "kommun": sender.municipality,
    }
    every = {**facts, **values}
    return Filled(
        doc_type=template.doc_type,
        title=template.title.format_map(every)[:200],
        text=template.body.format_map(every),
    )
