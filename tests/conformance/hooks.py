"""Schemathesis hooks for the conformance run (tests/conformance/run.py loads them).

The OpenAPI documents name one format that JSON Schema cannot spell out:
`personnummer` (shared.personnummer: a pattern gives the shape, but a valid date
and the Luhn check digit are beyond a pattern). Here schemathesis learns to
generate valid ones, so a schema-valid request means a valid personnummer, as
the document says.
"""

from __future__ import annotations

from datetime import date

import schemathesis
from hypothesis import strategies as st

from shared.personnummer import luhn_checksum_digit


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    """A valid personnummer or samordningsnummer (day + 60), 12 digits, with or without '-'."""
    born = draw(st.dates(min_value=date(1905, 1, 1), max_value=date(2020, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    separator = draw(st.sampled_from(["", "-"]))
    return f"{born.year // 100}{nine[:6]}{separator}{nine[6:]}{luhn_checksum_digit(nine)}"


schemathesis.openapi.format("personnummer", personnummer())
