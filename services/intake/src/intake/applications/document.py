"""The e-application as a PDF (IN-5), with the labels the e-service shows: intake's
template on the shared PDF building blocks (shared.pdf). The endpoint renders it
once the request's transaction is over, off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.config import TIME_ZONE
from shared.pdf import PdfDocument, PdfResponse, Section

ENTRY_TITLES = {"sol": "Ansökan om stöd till äldre (SoL)", "lss": "Ansökan enligt LSS"}


@dataclass(frozen=True)
class ApplicationDocument:
    """What the applicant's PDF shows (the service names as the catalogue has them)."""

    application_id: str
    entry: str
    applicant_name: str
    applicant_pnr: str
    services: list[str]
    description: str
    submitted_at: datetime

    def layout(self) -> PdfDocument:
        submitted = self.submitted_at.astimezone(TIME_ZONE)
        pnr = f"{self.applicant_pnr[:8]}-{self.applicant_pnr[8:]}"
        return PdfDocument(
            title=ENTRY_TITLES.get(self.entry, "Ansökan"),
            sections=(
                Section("Sökande", (f"{self.applicant_name}, {pnr}",)),
                Section("Skapad", (submitted.strftime("%Y-%m-%d %H:%M"),)),
                Section("Valda tjänster", tuple(f"• {s}" for s in self.services)),
                Section("Övrig information", (self.description,)),
            ),
            footnote=f"Ärende-id {self.application_id}",
            metadata_title="Ansökan",
            author="Omsorg e-tjänst",
        )


class ApplicationPdfResponse(PdfResponse):
    """The application's PDF, rendered as the response is sent (see PdfResponse)."""

    def __init__(self, doc: ApplicationDocument, headers: dict[str, str] | None = None) -> None:
        super().__init__(doc.layout(), headers)
