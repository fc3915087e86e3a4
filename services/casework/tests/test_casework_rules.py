"""Casework's pure rules: the LSS check of the link dialog and an approval's default end."""

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from casework.intake_records.schemas import LinkApplication
from casework.intake_records.service import _check_lss
from casework.relations.service import one_year_after
from shared.contracts.casework import MAX_RELATED_ALERTS, AlertAddress, EServiceSettingsChanged
from shared.contracts.intake import ContactDetailsChanged
from shared.personnummer import Personnummer
from shared.problems import InvalidInput


def form(**values: object) -> LinkApplication:
    return LinkApplication.model_validate(
        {
            "record_type": "Begäran LSS",
            "caseworker_id": "cw",
            "unit": "lss",
            "from_whom": "Den enskilde",
            **values,
        }
    )


def test_lss_request_keeps_the_chosen_lss_services_once_each() -> None:
    chosen = form(lss_services=["lss_daglig_verksamhet", "lss_ledsagarservice", "lss_daglig_verksamhet"])
    assert _check_lss(chosen) == ["lss_daglig_verksamhet", "lss_ledsagarservice"]


def test_lss_request_without_lss_service_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        _check_lss(form())


def test_lss_request_with_a_sol_service_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Not an LSS service"):
        _check_lss(form(lss_services=["hemtjanst"]))


def test_lss_services_with_another_record_type_are_refused() -> None:
    with pytest.raises(InvalidInput, match="only with Begäran LSS"):
        _check_lss(form(record_type="Ansökan SoL", lss_services=["lss_bostad_vuxen"]))


def test_the_default_approval_lasts_one_year() -> None:
    assert one_year_after(date(2026, 11, 23)) == date(2027, 11, 23)
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


def test_event_lists_are_bounded() -> None:
    alert = AlertAddress(
        related_pnr=Personnummer("191212121212"),
        name="Isabella Test",
        sms_number="+46701234567",
        email=None,
    )
    settings = {
        "person_id": uuid.uuid4(),
        "pnr": "191212121212",
        "name": "Annika Test",
        "messages_enabled": True,
        "sms_number": None,
        "email": None,
        "alert_recipients": "related",
        "protected_identity": False,
        "changed_at": datetime.now(UTC),
    }
    most = [alert] * MAX_RELATED_ALERTS
    assert EServiceSettingsChanged.model_validate({**settings, "related_alerts": most}).version == 0
    with pytest.raises(ValidationError):
        EServiceSettingsChanged.model_validate({**settings, "related_alerts": [*most, alert]})
    with pytest.raises(ValidationError):
        ContactDetailsChanged.model_validate(
            {
                "citizen_id": uuid.uuid4(),
                "pnr": "191212121212",
                "changed": ["mobile", "email", "mobile"],
                "mobile": None,
                "email": None,
                "changed_at": datetime.now(UTC),
                "version": 1,
            }
        )
