from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from shared.personnummer import InvalidPersonnummer, Personnummer

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("text", ["191212121212", "19121212-1212", "121212+1212", " 191212121212 "])
def test_valid_forms_become_twelve_digits(text: str) -> None:
    assert Personnummer(text, today=TODAY) == "191212121212"


def test_ten_digits_take_the_century_from_the_separator() -> None:
    # '-': under 100 years old, the latest such year; '+': a hundred years earlier.
    assert Personnummer("121212-1212", today=TODAY) == "201212121212"
    assert Personnummer("1212121212", today=TODAY) == "201212121212"
    assert Personnummer("460101-1234", today=TODAY) == "194601011234"
    assert Personnummer("460101+1234", today=TODAY) == "184601011234"


def test_invalid_check_digit_is_refused() -> None:
    with pytest.raises(InvalidPersonnummer, match="check digit"):
        Personnummer("191212121213", today=TODAY)


@pytest.mark.parametrize("text", ["19121332-1210", "19120230-1214", "19121200-1212"])
def test_invalid_date_is_refused(text: str) -> None:
    with pytest.raises(InvalidPersonnummer, match="date"):
        Personnummer(text, today=TODAY)


def test_future_birth_date_is_refused() -> None:
    with pytest.raises(InvalidPersonnummer, match="future"):
        Personnummer("20301212-1214", today=TODAY)


def test_samordningsnummer_is_accepted_with_day_plus_sixty() -> None:
    number = Personnummer("197010632391", today=TODAY)
    assert number.is_coordination_number
    assert number.birth_date == date(1970, 10, 3)
    assert not Personnummer("191212121212", today=TODAY).is_coordination_number


@pytest.mark.parametrize("text", ["", "abc", "12345", "19121212121", "1912121212123", "191212 1212"])
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidPersonnummer):
        Personnummer(text, today=TODAY)


def test_value_never_shows_in_repr() -> None:
    number = Personnummer("191212121212")
    assert "1212" not in repr(number)
    assert number.masked() == "19121212-****"


def test_pydantic_field_validates_without_echoing_the_value() -> None:
    class Form(BaseModel):
        pnr: Personnummer

    assert Form(pnr="121212+1212").pnr == "191212121212"
    with pytest.raises(ValidationError) as caught:
        Form(pnr="191212121213")
    assert "191212121213" not in str(caught.value.errors(include_input=False))
    assert Form.model_validate_json('{"pnr": "191212121212"}').model_dump_json() == '{"pnr":"191212121212"}'
