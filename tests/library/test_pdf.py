"""The PDF building blocks (shared.pdf) and the e-application's printed form
(shared.contracts.intake.ApplicationDocument), which the applicant's PDF in
intake and the copy casework files under the intake record both render."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pypdf
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from intake.applications.document import ApplicationPdfResponse
from shared.contracts.intake import ApplicationDocument
from shared.pdf import PdfDocument, PdfResponse, Section, render_off_loop, render_pdf

FIELDS = {
    "application_id": "00000000-0000-0000-0000-000000000001",
    "entry": "lss",
    "applicant_name": "Tolvan <Tolvansson> & co",
    "applicant_pnr": "191212121212",
    "services": ["Personlig assistans", "Ledsagarservice"],
    "description": "Rad ett\n\n\n\n\nRad två",
    # 22:30 UTC on New Year's Eve is already the next day in Stockholm.
    "submitted_at": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
}


SWEDEN = ZoneInfo("Europe/Stockholm")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_a_document_renders_its_title_sections_and_footnote_as_plain_text() -> None:
    doc = PdfDocument(
        title="Rubrik <b>",
        sections=(Section("Etikett", ("första\nandra",)), Section("Tom", ())),
        footnote="Fotnot & mer",
    )
    text = _text(render_pdf(doc))
    for expected in ("Rubrik <b>", "Etikett", "första", "andra", "Tom", "Fotnot & mer"):
        assert expected in text  # markup characters are text, never reportlab markup


def test_the_applicants_pdf_shows_the_application_in_swedish_and_local_time() -> None:
    text = _text(render_pdf(ApplicationDocument(**FIELDS).layout(SWEDEN)))
    for expected in (
        "Ansökan enligt LSS",
        "Tolvan <Tolvansson> & co, 19121212-1212",
        "Skapad",
        "2026-01-01 00:30",
        "Valda tjänster",
        "Personlig assistans",  # after a bullet the standard font does not name
        "Övrig information",
        "Rad två",
        "Ärende-id 00000000-0000-0000-0000-000000000001",
    ):
        assert expected in text


async def test_the_application_renders_off_the_loop_under_either_entry() -> None:
    doc = ApplicationDocument(**FIELDS)
    pdf = await render_off_loop(doc.layout(SWEDEN))
    assert pdf.startswith(b"%PDF") and "Ansökan enligt LSS" in _text(pdf)
    assert dataclasses.replace(doc, entry="sol").layout(SWEDEN).title == "Ansökan om stöd till äldre (SoL)"


async def test_render_off_loop_gives_the_same_pdf_text_as_rendering_in_place() -> None:
    doc = ApplicationDocument(**FIELDS).layout(SWEDEN)
    assert _text(await render_off_loop(doc)) == _text(render_pdf(doc))


async def test_a_pdf_response_renders_when_sent_with_its_headers_and_length() -> None:
    async def endpoint(request: Request) -> PdfResponse:
        return ApplicationPdfResponse(ApplicationDocument(**FIELDS), headers={"cache-control": "no-store"})

    app = Starlette(routes=[Route("/pdf", endpoint)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)
    assert "Ansökan enligt LSS" in _text(response.content)
