"""The printed order (Skriv ut, PR-2): the order as the unit reads it, in
labelled sections with the labels users know. A person with protected identity
has no address on it, ever: the section says so instead."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from provider.config import TIME_ZONE
from provider.orders.models import Order, OrderStatus
from provider.orders.schemas import PrintPart
from shared.pdf import PdfDocument, Section

STATUS_LABELS = {
    OrderStatus.UNCONFIRMED: "Ej bekräftad",
    OrderStatus.CONFIRMED: "Bekräftad",
    OrderStatus.ENDED: "Avslutad",
}
NONE = "-"  # an empty field
PROTECTED_ADDRESS = "Skyddad identitet: adressen visas inte."
ALL_PARTS: tuple[PrintPart, ...] = ("kund", "insats", "anteckning", "handlingar", "verkstallighet")


def _pnr(pnr: str) -> str:
    return f"{pnr[:8]}-{pnr[8:]}"


def _day(day: date | None) -> str:
    return day.isoformat() if day else NONE


def _period(order: Order) -> str:
    start = f"från {order.period_from} " if order.period_from else ""
    end = f"till {order.period_to}" if order.period_to else "tills vidare"
    return (start + end).capitalize()


def order_document(order: Order, parts: Collection[PrintPart], printed_at: datetime) -> PdfDocument:
    """The order as a PDF layout: the chosen parts (all when none are chosen)."""
    chosen = set(parts) or set(ALL_PARTS)
    sections: list[Section] = [
        Section("Status", (STATUS_LABELS[order.status],)),
        Section("Beställd", (order.placed_at.astimezone(TIME_ZONE).date().isoformat(),)),
        Section("Beställare", (f"{order.caseworker_name}, {order.caseworker_unit}",)),
        Section("Utförare (enhet)", (order.unit,)),
    ]
    if "kund" in chosen:
        address = PROTECTED_ADDRESS if order.protected_identity else (order.client_address or NONE)
        sections += [
            Section("Kund", (order.client_name,)),
            Section("Personnummer", (_pnr(order.client_pnr),)),
            Section("Kundnummer", (order.kundnummer,)),
            Section("Adress", (address,)),
            Section("Telefon", (order.client_phone or NONE,)),
        ]
    if "insats" in chosen:
        sections += [
            Section("Insats", (f"{order.service_name} ({order.service_code})",)),
            Section("Omfattning", (order.extent or NONE,)),
            Section("Beviljad period", (_period(order),)),
        ]
    if "anteckning" in chosen:
        sections.append(Section("Anteckning från aktualiseringen", (order.note or NONE,)))
    if "handlingar" in chosen:
        names = tuple(str(d["filename"]) for d in order.documents) or ("Inga bifogade handlingar",)
        sections.append(Section("Bifogade handlingar", names))
    if "verkstallighet" in chosen:
        sections.append(Section("Verkställighetsdatum", (_day(order.execution_date),)))
        if order.end_date is not None:
            sections += [
                Section("Verkställighet avslutad", (_day(order.end_date),)),
                Section("Orsak", (order.end_reason or NONE,)),
            ]
    return PdfDocument(
        title=f"Beställning: {order.service_name}",
        sections=tuple(sections),
        footnote=(
            f"Utskriven {printed_at.astimezone(TIME_ZONE):%Y-%m-%d %H:%M}. Beställning {order.id}. "
            "Innehåller personuppgifter som omfattas av sekretess."
        ),
        metadata_title="Beställning",
    )
