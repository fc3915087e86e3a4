"""A written document as a PDF layout (shared.pdf renders it): its title, its
type and date, and its text, under the municipality's name. Plain domain code."""

from __future__ import annotations

import uuid
from datetime import date

from casework.documents.templates import swedish_date
from shared.pdf import PdfDocument, Section


def document_layout(
    document_id: uuid.UUID, doc_type: str, title: str, day: date, text: str, municipality: str
) -> PdfDocument:
    """The PDF of a written document."""
    return PdfDocument(
        title=title,
        sections=(Section(f"{doc_type}, {swedish_date(day)}", (text,)),),
        footnote=f"{municipality} · dokument {document_id}",
        metadata_title=title,
        author=municipality,
    )
