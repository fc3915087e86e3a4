"""The e-application as casework files it under the intake record (CW-2): casework's
own template on the shared PDF building blocks (shared.pdf), rendered from the
event's data, so no file travels on Kafka. It shows what the applicant's PDF in
intake shows (tests/library/test_pdf.py holds the two side by side)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.config import TIME_ZONE
from shared import pdf

ENTRY_TITLES = {"sol": "Ansökan om stöd till äldre (SoL)", "lss": "Ansökan enligt LSS"}


@dataclass(frozen=True)
class ApplicationDocument:
    """The filed copy's data; equal data renders an equal PDF."""

    application_id: str
    entry: str
    applicant_name: str
    applicant_pnr: str
    services: list[str]
    description: str
    submitted_at: datetime

    def layout(self) -> pdf.PdfDocument:
        submitted = self.submitted_at.astimezone(TIME_ZONE)
        pnr = f"{self.applicant_pnr[:8]}-{self.applicant_pnr[8:]}"
        return pdf.PdfDocument(
            title=ENTRY_TITLES.get(self.entry, "Ansökan"),
            sections=(
                pdf.Section("Sökande", (f"{self.applicant_name}, {pnr}",)),
                pdf.Section("Skapad", (submitted.strftime("%Y-%m-%d %H:%M"),)),
                pdf.Section("Valda tjänster", tuple(f"• {s}" for s in self.services)),
                pdf.Section("Övrig information", (self.description,)),
            ),
            footnote=f"Ärende-id {self.application_id}",
            metadata_title="Ansökan",
            author="Omsorg e-tjänst",
        )


async def render_off_loop(doc: ApplicationDocument) -> bytes:
    """The filed copy as PDF bytes, rendered in a worker thread (shared.pdf.render_off_loop)."""
    return await pdf.render_off_loop(doc.layout())
