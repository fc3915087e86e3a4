"""The e-application as a PDF response (IN-5): the layout is the contract's
(shared.contracts.intake.ApplicationDocument), shown in Swedish time; it is
rendered once the request's transaction is over, off the event loop."""

from __future__ import annotations

from intake.config import TIME_ZONE
from shared.contracts.intake import ApplicationDocument
from shared.pdf import PdfResponse


class ApplicationPdfResponse(PdfResponse):
    """The application's PDF, rendered as the response is sent (see PdfResponse)."""

    def __init__(self, doc: ApplicationDocument, headers: dict[str, str] | None = None) -> None:
        super().__init__(doc.layout(TIME_ZONE), headers)
