"""Casework's pure rules: the LSS check of the link dialog and an approval's default end."""

from datetime import date

import pytest

from casework.intake_records.schemas import LinkApplication
from casework.intake_records.service import _check_lss
from casework.relations.service import one_year_after
from shared.problems import InvalidInput


def form(**values: object) -> LinkApplication:
    return LinkApplication.model_validate({"record_type": "Begäran LSS", "caseworker_id": "cw",
                                           "unit": "lss", "from_whom": "Den enskilde", **values})


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
