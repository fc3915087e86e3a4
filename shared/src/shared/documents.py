"""The e-application as a PDF (IN-5), with the labels the e-service shows.

Intake renders it for the applicant; casework renders the same document from
the event's data when it files it under the intake record, so no file ever
travels on Kafka (DESIGN.md, Events)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ENTRY_TITLES = {"sol": "Ansökan om stöd till äldre (SoL)", "lss": "Ansökan enligt LSS"}


@dataclass(frozen=True)
class ApplicationDocument:
    application_id: str
    entry: str
    applicant_name: str
    applicant_pnr: str
    services: list[str]
    description: str
    submitted_at: datetime


def _pnr_display(pnr: str) -> str:
    return f"{pnr[:8]}-{pnr[8:]}"


def render_application_pdf(doc: ApplicationDocument) -> bytes:
    """The application as a one-document PDF with Swedish labels."""
    styles = getSampleStyleSheet()
    label, body = styles["Heading4"], styles["BodyText"]

    def text(value: str) -> Paragraph:
        return Paragraph(escape(value).replace("\n", "<br/>"), body)

    submitted = doc.submitted_at.astimezone(STOCKHOLM)
    story = [
        Paragraph(escape(ENTRY_TITLES.get(doc.entry, "Ansökan")), styles["Title"]),
        Paragraph("Sökande", label), text(f"{doc.applicant_name}, {_pnr_display(doc.applicant_pnr)}"),
        Paragraph("Skapad", label), text(submitted.strftime("%Y-%m-%d %H:%M")),
        Paragraph("Valda tjänster", label), *[text(f"• {s}") for s in doc.services],
        Paragraph("Övrig information", label), text(doc.description),
        Spacer(1, 8 * mm),
        Paragraph(f"Ärende-id {escape(doc.application_id)}", styles["Italic"]),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="Ansökan", author="Omsorg e-tjänst",
                      leftMargin=20 * mm, rightMargin=20 * mm).build(story)
    return buffer.getvalue()
