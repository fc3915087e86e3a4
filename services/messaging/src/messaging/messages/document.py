"""A message as a printable PDF (MS-5): the header users know (Från, Till, Till
klient, Ämne, Datum), the text and the names of the attachments. The layout is
described here; shared.pdf renders it off the event loop after the request's
transaction (PdfResponse)."""

from __future__ import annotations

import html
import re
from datetime import datetime

import nh3

from messaging.config import TIME_ZONE
from messaging.messages.schemas import MessageOut
from shared.pdf import PdfDocument, Section

# Where a line ends in the rich text: after a block, at a line break or rule.
_BREAKS = re.compile(
    r"<br\s*/?>|<hr\s*/?>|</(?:p|div|li|h[1-6]|blockquote|pre|tr|table|ul|ol|dt|dd)\s*>", re.IGNORECASE
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def plain_text(body: str) -> str:
    """The sanitised HTML body as plain text paragraphs: a line per block or line
    break, the tags stripped by nh3 (never by hand), the entities unescaped."""
    marked = _BREAKS.sub(lambda m: f"{m.group(0)}\n", body)
    text = html.unescape(nh3.clean(marked, tags=set(), attributes={}))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def message_document(
    message: MessageOut, client: str | None, printed_at: datetime, printed_by: str
) -> PdfDocument:
    """The message as printed: `client` is the person it concerns, "Name (YYYYMMDD-XXXX)"."""
    at = (message.sent_at or message.created_at).astimezone(TIME_ZONE)
    sections = [Section("Från", (message.from_label,))]
    if message.to:
        sections.append(Section("Till", tuple(r.label for r in message.to)))
    if client is not None:
        sections.append(Section("Till klient", (client,)))
    sections += [
        Section("Ämne", (message.subject,)),
        Section("Datum", (f"{at:%Y-%m-%d %H:%M}",)),
        Section("Meddelandetext", (plain_text(message.body) or "-",)),
    ]
    if message.attachments:
        sections.append(Section("Bilagor", tuple(a.filename for a in message.attachments)))
    return PdfDocument(
        title="Meddelande",
        sections=tuple(sections),
        footnote=f"Utskrivet {printed_at.astimezone(TIME_ZONE):%Y-%m-%d %H:%M} av {printed_by} ur Omsorg.",
        metadata_title=f"Meddelande: {message.subject}",
    )
