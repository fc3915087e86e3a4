from __future__ import annotations

import uuid
from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from casework.documents.templates import DATE_PATTERN, TEMPLATES, TIME_PATTERN, Template
from casework.models import DocumentSource
from shared.contracts.casework import EServiceDeliveryKind
from shared.fields import Trimmed, at_least_pattern, no_null_defaults

MAX_TEXT = 20_000  # a written document's text
MAX_TEMPLATE_FIELDS = 20
MAX_DOCUMENTS = 1000  # per person, in a response

MAX_FIELD_VALUE = 2000

DocType = Annotated[str, Trimmed(60, min_length=1)]
Title = Annotated[str, Trimmed(200, min_length=1)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=40)]
FieldValue = Annotated[str, StringConstraints(max_length=MAX_FIELD_VALUE)]

_FIELD_VALUE: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "maxLength": MAX_FIELD_VALUE, "pattern": at_least_pattern(1)},
    "date": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
    "time": {"type": "string", "pattern": TIME_PATTERN},
}


def _with_template(template: Template) -> dict[str, Any]:
    own = [f.name for f in template.fields]
    return {
        "title": template.name,
        "required": ["template"],
        "properties": {
            "template": {"const": template.name},
            "fields": {
                "type": "object",
                "properties": {f.name: _FIELD_VALUE[f.kind] for f in template.fields},
                "required": own,
                "additionalProperties": False,
            },
            "text": {"type": "null"},
        },
    }


def _document_create_rules(schema: dict[str, Any]) -> None:
    """What `documents.service.create` checks, stated: one branch per template (its
    own fields, every one given, no text), or no template and doc_type, title and
    text given (no template fields)."""
    without_template = {
        "title": "Without a template",
        "required": ["doc_type", "title", "text"],
        "properties": {
            "template": {"type": "null"},
            "fields": {"maxProperties": 0},
            "doc_type": {"type": "string"},
            "title": {"type": "string"},
            "text": {"type": "string"},
        },
    }
    schema["oneOf"] = [*(_with_template(t) for t in TEMPLATES.values()), without_template]


class DocumentCreate(BaseModel):
    """A new written document of the person (Nytt dokument): with `template`, its
    text (and type and title) come from the template filled with the person's
    data and `fields`; without, give doc_type, title and text."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_create_rules)

    record_id: uuid.UUID | None = Field(default=None, description="Under this intake record's documentation")
    case_id: uuid.UUID | None = Field(default=None, description="Of this case (ärende); its record implied")
    # One of TEMPLATES: the schema's branches (above) name each; documents.service
    # answers an unknown name with 422 listing the known ones.
    template: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="See GET /document-templates"
    )
    fields: dict[FieldName, FieldValue] = Field(
        default_factory=dict, max_length=MAX_TEMPLATE_FIELDS, description="The template's own fields"
    )
    doc_type: DocType | None = Field(default=None, description="Dokumenttyp; the template's by default")
    title: Title | None = Field(default=None, description="Rubrik; the template's by default")
    date: Date | None = Field(default=None, description="Datum; today by default")
    text: Text | None = Field(default=None, description="Text; from the template with `template`")


class DocumentUpdate(BaseModel):
    """Change a document that is not write-protected: a field left out stays (none
    can be cleared: null is refused, so the schema does not offer it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)

    doc_type: DocType | SkipJsonSchema[None] = None
    title: Title | SkipJsonSchema[None] = None
    date: Date | SkipJsonSchema[None] = None
    text: Text | SkipJsonSchema[None] = Field(default=None, description="Only a written document has a text")


class DeliveryOut(BaseModel):
    """The document's delivery to the person's e-service mailbox."""

    delivery_id: uuid.UUID
    kind: EServiceDeliveryKind
    status: Literal["requested", "delivered", "refused"] = Field(
        description="refused: messaging could not deliver it; the document must go by post"
    )
    requested_at: datetime
    requested_by: str
    delivered_at: datetime | None
    message_id: uuid.UUID | None = Field(description="The message in the e-service mailbox")
    refused_at: datetime | None = None
    refused_reason: str | None = Field(default=None, description="Why messaging refused it")


class DocumentOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    record_id: uuid.UUID | None
    case_id: uuid.UUID | None
    doc_type: str
    title: str
    date: Date
    text: str | None
    source: DocumentSource
    content_type: str
    has_file: bool = Field(description="False: a written document whose PDF is rendered on demand")
    created_by: str | None
    created_at: datetime
    updated_at: datetime | None
    write_protected: bool
    write_protected_at: datetime | None
    write_protected_by: str | None
    delivery: DeliveryOut | None


class SendToEService(BaseModel):
    """Skapa PDF och skicka till e-tjänsten: the message the PDF goes with."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, Trimmed(200, min_length=1)] | None = Field(
        default=None, description="Ämne; the document's title by default"
    )
    text: Annotated[str, Trimmed(10_000)] | None = Field(
        default=None, description="The message's text; a short note naming the document by default"
    )


class TemplateFieldOut(BaseModel):
    name: str
    label: str
    kind: Literal["text", "date", "time"]


class TemplateOut(BaseModel):
    name: str
    doc_type: str
    title: str
    fields: list[TemplateFieldOut]
