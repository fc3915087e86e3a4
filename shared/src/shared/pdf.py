"""PDF documents made of labelled sections of text, rendered off the event loop.

Domain-free building blocks for the services that file or show documents: a
document is described as a `PdfDocument` (by the service that owns it, or, for
the e-application both intake and casework show, by its contract) and this
module lays it out, renders it in a worker thread and sends it. Describing needs
nothing more; rendering needs reportlab, which only the `pdf` extra
(`omsorg-shared[pdf]`) installs, so only the services that render get it
(docs/module-template.md).

Rendering is CPU work of up to a second: services call `render_off_loop`, which
renders in a worker thread, a few at a time, so the event loop keeps answering
other requests (docs/http-edge.md)."""

from __future__ import annotations

import asyncio
import io
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import anyio
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from reportlab.platypus import Flowable, Paragraph

# Renders at once per process. Small: rendering is CPU-bound and holds the GIL
# most of the time, so more threads only slow each other and the event loop;
# a burst waits here instead of filling anyio's shared worker pool.
RENDER_SLOTS = 2
_BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){2,}")


@dataclass(frozen=True)
class Section:
    """A heading and its texts; each text may span several lines."""

    label: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class PdfDocument:
    """What a page shows: a title, labelled sections and a footnote (all plain text)."""

    title: str
    sections: tuple[Section, ...]
    footnote: str = ""
    # The PDF's metadata, which viewers show in their title bar and properties.
    metadata_title: str = ""
    author: str = "Omsorg"


def render_pdf(doc: PdfDocument) -> bytes:
    """The document as PDF bytes, on A4. Blocks its thread: see `render_off_loop`."""
    # Imported here: describing a document (PdfDocument) needs no reportlab, only
    # rendering it does, and only the services with the `pdf` extra render.
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    label, body = styles["Heading4"], styles["BodyText"]

    def text(value: str) -> list[Paragraph]:
        # One paragraph per line: reportlab splits one long paragraph of many
        # <br/> across pages in quadratic time (a 10,000 character text of short
        # lines took 14 s). Runs of blank lines become one.
        lines = _BLANK_RUN.sub("\n\n", value).split("\n")
        return [Paragraph(escape(line) or "&nbsp;", body) for line in lines]

    story: list[Flowable] = [Paragraph(escape(doc.title), styles["Title"])]
    for section in doc.sections:
        story.append(Paragraph(escape(section.label), label))
        story.extend(p for value in section.texts for p in text(value))
    if doc.footnote:
        story += [Spacer(1, 8 * mm), Paragraph(escape(doc.footnote), styles["Italic"])]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=doc.metadata_title or doc.title,
        author=doc.author,
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


async def render_off_loop(doc: PdfDocument) -> bytes:
    """`render_pdf` in a worker thread, at most RENDER_SLOTS at once."""
    return await anyio.to_thread.run_sync(render_pdf, doc, limiter=_render_slots())


class PdfResponse(Response):
    """Renders the PDF when the response is sent, that is after the request's
    transaction has committed and its database connection is back in the pool:
    a burst of PDF requests waiting for a render slot holds no connections."""

    media_type = "application/pdf"

    def __init__(self, doc: PdfDocument, headers: dict[str, str] | None = None) -> None:
        self.doc = doc
        self._extra_headers = headers
        super().__init__(b"", headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.body = await render_off_loop(self.doc)
        self.init_headers(self._extra_headers)  # the Content-Length of the rendered body
        await super().__call__(scope, receive, send)
