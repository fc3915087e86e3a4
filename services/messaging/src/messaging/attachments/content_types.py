"""Which files may be attached, and whether a file's content is its declared type.

The declared type (the upload's Content-Type) must be one of ALLOWED, and the
first bytes must be that type, as the `puremagic` library (pure Python, no
libmagic) identifies them. Office Open XML and OpenDocument files are zip
archives, so for them the zip signature is accepted; the legacy Word, Excel and
PowerPoint formats share the OLE compound-file signature. Plain text has no
signature: it must be UTF-8 without NUL characters (checked over the whole
file, as it streams) and must not be markup a browser renders (HTML, XML, SVG),
which the library does recognise.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from enum import StrEnum

import puremagic


class Family(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    ZIP_OFFICE = "zip_office"  # docx, xlsx, pptx, odt, ods, odp
    OLE_OFFICE = "ole_office"  # doc, xls, ppt
    TEXT = "text"


# Declared media type -> the family of signatures its content must show.
ALLOWED: dict[str, Family] = {
    "application/pdf": Family.PDF,
    "image/png": Family.PNG,
    "image/jpeg": Family.JPEG,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": Family.ZIP_OFFICE,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": Family.ZIP_OFFICE,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": Family.ZIP_OFFICE,
    "application/vnd.oasis.opendocument.text": Family.ZIP_OFFICE,
    "application/vnd.oasis.opendocument.spreadsheet": Family.ZIP_OFFICE,
    "application/vnd.oasis.opendocument.presentation": Family.ZIP_OFFICE,
    "application/msword": Family.OLE_OFFICE,
    "application/vnd.ms-excel": Family.OLE_OFFICE,
    "application/vnd.ms-powerpoint": Family.OLE_OFFICE,
    "text/plain": Family.TEXT,
}

# What puremagic names each family's signatures (file extensions of its matches).
_SIGNATURES: dict[Family, frozenset[str]] = {
    Family.PDF: frozenset({".pdf"}),
    Family.PNG: frozenset({".png"}),
    Family.JPEG: frozenset({".jpg", ".jpeg", ".jfif", ".jpe"}),
    Family.ZIP_OFFICE: frozenset({".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"}),
    Family.OLE_OFFICE: frozenset({".doc", ".xls", ".ppt", ".dot", ".xlt", ".pps"}),
}
# Recognised markup that is not plain text, though it is valid UTF-8.
_MARKUP_EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".svg", ".xml", ".xsl", ".hta", ".mht"})
_MARKUP_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml"}
)

# How many leading bytes are sniffed (the first chunk holds at least this many, or the whole file).
SNIFF_BYTES = 8192


class NotAllowedType(Exception):
    """The declared type is not one that may be attached."""


class ContentMismatch(Exception):
    """The content is not what its declared type says."""


def normalise(declared: str | None) -> tuple[str, Family]:
    """The declared media type without parameters, lower case, and its family.
    text/plain may say charset utf-8 (or us-ascii, a subset); no other charset."""
    if not declared:
        raise NotAllowedType("The upload has no Content-Type: declare the file's type.")
    media_type, _, parameters = declared.partition(";")
    media_type = media_type.strip().lower()
    family = ALLOWED.get(media_type)
    if family is None:
        raise NotAllowedType("Files of this type cannot be attached.")
    if family is Family.TEXT:
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
                "utf-8",
                "utf8",
                "us-ascii",
            ):
                raise NotAllowedType("Plain text must be UTF-8.")
    return media_type, family


def stored_type(media_type: str) -> str:
    """The Content-Type an attachment is stored with and served as."""
    return "text/plain; charset=utf-8" if media_type == "text/plain" else media_type


def _matches(head: bytes) -> list[puremagic.main.PureMagicWithConfidence]:
    try:
        return list(puremagic.magic_string(head))
    except puremagic.PureError:
        return []  # nothing recognised


@dataclass
class ContentCheck:
    """Checks a file as it streams: its first bytes against the declared family,
    and, for text, every byte (UTF-8, no NUL)."""

    family: Family
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("strict")
    )
    _sniffed: bool = False

    def feed(self, data: bytes) -> None:
        """The next piece of the file; the first piece holds its first SNIFF_BYTES (or all of it)."""
        if not self._sniffed:
            self._sniffed = True
            self._sniff(data[:SNIFF_BYTES])
        if self.family is Family.TEXT:
            self._text(data, final=False)

    def finish(self) -> None:
        if self.family is Family.TEXT:
            self._text(b"", final=True)

    def _sniff(self, head: bytes) -> None:
        matches = _matches(head)
        if self.family is Family.TEXT:
            if any(m.extension in _MARKUP_EXTENSIONS or m.mime_type in _MARKUP_TYPES for m in matches):
                raise ContentMismatch("The file is markup (HTML, XML or SVG), not plain text.")
            return
        if not any(m.extension.lower() in _SIGNATURES[self.family] for m in matches):
            raise ContentMismatch("The file's content is not of its declared type.")

    def _text(self, data: bytes, final: bool) -> None:
        if b"\x00" in data:
            raise ContentMismatch("Plain text must not contain NUL characters.")
        try:
            self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise ContentMismatch("Plain text must be valid UTF-8.") from exc
