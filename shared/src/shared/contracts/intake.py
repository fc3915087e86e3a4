"""Events produced by intake (topic `intake.applications.v1`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from pydantic import BaseModel, Field

from shared.events import Event
from shared.pdf import PdfDocument, Section
from shared.personnummer import Personnummer

APPLICATIONS_TOPIC = "intake.applications.v1"

Entry = Literal["sol", "lss"]


class AppliedService(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=100)


class Applicant(BaseModel):
    pnr: Personnummer
    name: str = Field(min_length=1, max_length=200)


class ApplicationSubmitted(Event):
    """A citizen submitted an e-application (e-ansökan)."""

    ce_type = "se.omsorg.intake.application.submitted.v1"
    topic = APPLICATIONS_TOPIC
    key_field = "application_id"

    application_id: uuid.UUID
    entry: Entry
    services: list[AppliedService] = Field(min_length=1, max_length=20)
    description: str = Field(min_length=1, max_length=10_000)
    applicant: Applicant
    submitted_at: datetime


CITIZENS_TOPIC = "intake.citizens.v1"


class ContactDetailsChanged(Event):
    """A citizen changed their mobile number or e-mail in the e-service profile (IN-6, NT-3)."""

    ce_type = "se.omsorg.intake.citizen.contact-details-changed.v1"
    topic = CITIZENS_TOPIC
    key_field = "citizen_id"  # intake's profile id: no personal data in the key

    citizen_id: uuid.UUID
    pnr: Personnummer
    # Which of the two the citizen changed: consumers touch only those, so a
    # new e-mail never wipes a number casework holds (and vice versa).
    changed: list[Literal["mobile", "email"]] = Field(min_length=1, max_length=2)
    mobile: str | None
    email: str | None
    changed_at: datetime
    # The citizen profile's version, incremented under its row lock in intake.
    # Consumers keep the version each field was last set at, so a stale replay
    # changes nothing while a newer change of another field still applies.
    # 0 only in events from before versions were carried.
    version: int = Field(default=0, ge=0)


ENTRY_TITLES = {"sol": "Ansökan om stöd till äldre (SoL)", "lss": "Ansökan enligt LSS"}


@dataclass(frozen=True)
class ApplicationDocument:
    """The e-application's printed form (IN-5), with the labels the e-service shows.
    Part of the contract: the applicant's PDF in intake and the copy casework files
    under the intake record (CW-2) must show the same, so both render this one
    layout from their own data; no file travels on Kafka."""

    application_id: str
    entry: str
    applicant_name: str
    applicant_pnr: str
    services: list[str]
    description: str
    submitted_at: datetime

    def layout(self, time_zone: tzinfo) -> PdfDocument:
        """The document to render; times shown in `time_zone` (Sweden's)."""
        submitted = self.submitted_at.astimezone(time_zone)
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
