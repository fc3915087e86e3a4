"""The e-application as a PDF (IN-5), with the labels the e-service shows.

Intake renders it for the applicant; casework renders the same document from
the event's data when it files it under the intake record, so no file ever
travels on Kafka (DESIGN.md, Events).

Rendering is CPU work of up to a second: services call `render_off_loop`, which
renders in a worker thread, a few at a time, so the event loop keeps answering
other requests (docs/http-edge.md)."""

from __future__ import annotations

import asyncio
import io
import re
import weakref
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ENTRY_TITLES = {"sol": "Ansökan om stöd till äldre (SoL)", "lss": "Ansökan enligt LSS"}
# Renders at once per process. Small: rendering is CPU-bound and holds the GIL
# most of the time, so more threads only slow each other and the event loop;
# a burst waits here instead of filling anyio's shared worker pool.
RENDER_SLOTS = 2
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")


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

    def text(value: str) -> list[Paragraph]:
        # One paragraph per line: reportlab splits one long paragraph of many
        # <br/> across pages in quadratic time (a 10,000 character text of short
        # lines took 14 s). Runs of blank lines become one.
        lines = _BLANK_RUN.sub("\n\n", value).split("\n")
        return [Paragraph(escape(line) or "&nbsp;", body) for line in lines]

    submitted = doc.submitted_at.astimezone(STOCKHOLM)
    story = [
        Paragraph(escape(ENTRY_TITLES.get(doc.entry, "Ansökan")), styles["Title"]),
        Paragraph("Sökande", label),
        *text(f"{doc.applicant_name}, {_pnr_display(doc.applicant_pnr)}"),
        Paragraph("Skapad", label),
        *text(submitted.strftime("%Y-%m-%d %H:%M")),
        Paragraph("Valda tjänster", label),
        *[p for s in doc.services for p in text(f"• {s}")],
        Paragraph("Övrig information", label),
        *text(doc.description),
        Spacer(1, 8 * mm),
        Paragraph(f"Ärende-id {escape(doc.application_id)}", styles["Italic"]),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Ansökan",
        author="Omsorg e-tjänst",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
    ).build(story)
    return buffer.getvalue()


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _render_slots() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()  # one limiter per event loop (tests run several)
    if loop not in _slots:
        _slots[loop] = anyio.CapacityLimiter(RENDER_SLOTS)
    return _slots[loop]


async def render_off_loop(doc: ApplicationDocument) -> bytes:
    """`render_application_pdf` in a worker thread, at most RENDER_SLOTS at once."""
    return await anyio.to_thread.run_sync(render_application_pdf, doc, limiter=_render_slots())


class ApplicationPdfResponse(Response):
    """Renders the PDF when the response is sent, that is after the request's
    transaction has committed and its database connection is back in the pool:
    a burst of PDF requests waiting for a render slot holds no connections."""

    media_type = "application/pdf"

    def __init__(self, doc: ApplicationDocument, headers: dict[str, str] | None = None) -> None:
        self.doc = doc
        self._extra_headers = headers
        super().__init__(b"", headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.body = await render_off_loop(self.doc)
        self.init_headers(self._extra_headers)  # the Content-Length of the rendered body
        await super().__call__(scope, receive, send)
