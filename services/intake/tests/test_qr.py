"""The animated BankID QR code: the content BankID's app expects each second."""

from __future__ import annotations

import hashlib
import hmac

from intake.login.qr import qr_data

# The example order of BankID's QR code guide.
QR_START_TOKEN = "67df3917-fa0d-44e5-b327-edcc928297f8"
QR_START_SECRET = "d28db9a7-4cde-429e-a983-359be676944c"


def test_qr_code_at_start_matches_bankids_documented_example() -> None:
    assert qr_data(QR_START_TOKEN, QR_START_SECRET, 0) == (
        "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0."
        "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
    )


def test_qr_code_signs_the_seconds_as_text_with_the_secret_as_key() -> None:
    for seconds in (1, 2, 9, 10, 29):
        expected = hmac.new(
            QR_START_SECRET.encode("ascii"), str(seconds).encode("ascii"), hashlib.sha256
        ).hexdigest()
        prefix, token, time, code = qr_data(QR_START_TOKEN, QR_START_SECRET, seconds).split(".")
        assert (prefix, token, time, code) == ("bankid", QR_START_TOKEN, str(seconds), expected)
    assert qr_data(QR_START_TOKEN, QR_START_SECRET, 3) != qr_data(QR_START_TOKEN, QR_START_SECRET, 4)
