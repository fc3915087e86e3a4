"""The request schemas state the rules the service checks (issue 11, conformance):
what the schema admits is what casework accepts, checked with a JSON Schema
validator on the documents a client reads."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel

from casework.decisions.schemas import DecisionCreate
from casework.documents.schemas import DocumentCreate, DocumentUpdate
from casework.intake_records.schemas import LinkApplication
from casework.relations.schemas import ApprovalCreate, RelationCreate


def _admits(model: type[BaseModel], body: dict[str, Any]) -> bool:
    return bool(jsonschema_rs.validator_for(model.model_json_schema()).is_valid(body))


VISIT = {"datum": "2026-12-03", "tid": "10:00"}


@pytest.mark.parametrize(
    ("body", "admitted"),
    [
        ({"template": "Kallelse till hembesök", "fields": VISIT}, True),
        ({"doc_type": "Brev", "title": "t", "text": "x"}, True),
        ({"template": "0"}, False),  # no such template
        ({"template": "Kallelse till hembesök", "fields": VISIT, "text": "egen"}, False),
        ({"template": "Kallelse till hembesök", "fields": {"datum": "3/12", "tid": "10:00"}}, False),
        ({"template": "Kallelse till hembesök", "fields": {"datum": "2026-12-03"}}, False),
        ({"template": "Information om utredning", "fields": {"x": "y"}}, False),
        ({"doc_type": "Brev", "title": "t", "text": "x", "fields": {"datum": "2026-12-03"}}, False),
        ({"doc_type": "Brev", "title": "t"}, False),  # no text without a template
        ({"doc_type": " ", "title": "t", "text": "x"}, False),  # blank once trimmed
    ],
)
def test_a_new_document_is_a_template_with_its_fields_or_a_written_text(
    body: dict[str, Any], admitted: bool
) -> None:
    assert _admits(DocumentCreate, body) == admitted


def test_a_documents_fields_cannot_be_cleared() -> None:
    for name in ("doc_type", "title", "date", "text"):
        assert not _admits(DocumentUpdate, {name: None}), name


LINK = {"caseworker_id": "cw", "unit": "u", "from_whom": "Övrigt"}


@pytest.mark.parametrize(
    ("record_type", "lss_services", "admitted"),
    [
        ("Begäran LSS", ["lss_ledsagarservice"], True),
        ("Begäran LSS", [], False),
        ("Begäran LSS", ["hemtjanst"], False),
        ("Ansökan SoL", [], True),
        ("Ansökan SoL", ["lss_ledsagarservice"], False),
    ],
)
def test_lss_services_go_with_begaran_lss_only(
    record_type: str, lss_services: list[str], admitted: bool
) -> None:
    body = {**LINK, "record_type": record_type, "lss_services": lss_services}
    assert _admits(LinkApplication, body) == admitted


def test_alerts_need_the_related_persons_contact() -> None:
    base = {
        "relation_type": "Anhörig",
        "related_personnummer": "19121212-1212",
        "related_name": "N",
        "valid_from": "2026-01-01",
    }
    assert _admits(RelationCreate, base)
    assert not _admits(RelationCreate, {**base, "sms_alerts": True})
    assert _admits(RelationCreate, {**base, "sms_alerts": True, "phone": "0701234567"})
    assert not _admits(RelationCreate, {**base, "email_alerts": True, "email": None})


def test_an_approval_needs_the_registered_consent() -> None:
    base = {"related_personnummer": "19121212-1212", "related_name": "N", "valid_from": "2026-01-01"}
    assert _admits(ApprovalCreate, {**base, "consent_registered": True})
    assert not _admits(ApprovalCreate, {**base, "consent_registered": False})
    # Without valid_to it defaults to a year on: not from 9999.
    assert not _admits(ApprovalCreate, {**base, "consent_registered": True, "valid_from": "9999-01-01"})


def test_a_grant_has_its_period_and_extent_a_refusal_none() -> None:
    period = {"period_from": "2026-01-01", "period_to": "2026-12-31", "extent": "4 h/vecka"}
    assert _admits(DecisionCreate, {"outcome": "Beviljad", "text": "t", **period})
    assert not _admits(DecisionCreate, {"outcome": "Beviljad", "text": "t"})
    assert _admits(DecisionCreate, {"outcome": "Avslag", "text": "t"})
    assert not _admits(DecisionCreate, {"outcome": "Avslag", "text": "t", **period})
