"""Contact details citizens and caseworkers type: Swedish phone numbers and e-mail."""

import pytest

from shared.contact import normalize_email, normalize_mobile, normalize_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("070-123 45 67", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("011-12 34 56", "+4611123456"),
        ("08-123 456 78", "+46812345678"),
    ],
)
def test_phone_numbers_are_stored_in_e164(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["12345", "+4512345678", "070-12", "0701234567890", "07O1234567", "+460701234567"]
)
def test_what_is_not_a_swedish_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(typed)


def test_only_mobile_numbers_receive_sms() -> None:
    assert normalize_mobile("0739876543") == "+46739876543"
    with pytest.raises(ValueError):
        normalize_mobile("011-123456")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("  Annika@Example.SE ", "Annika@example.se"), ("a.b+c@sub.example.se", "a.b+c@sub.example.se")],
)
def test_email_addresses_keep_the_local_part_and_lower_the_domain(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed", ["a@", "@example.se", "a@example", "a b@example.se", "t@@example.se", "a@" + "x" * 250 + ".se"]
)
def test_invalid_email_addresses_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        normalize_email(typed)
