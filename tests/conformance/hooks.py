"""Schemathesis hooks for the conformance run (tests/conformance/run.py loads them).

The OpenAPI documents name one format that JSON Schema cannot spell out:
`personnummer` (shared.personnummer: a pattern gives the shape, but a valid date
and the Luhn check digit are beyond a pattern). Here schemathesis learns to
generate valid ones, so a schema-valid request means a valid personnummer, as
the document says.

And one rule no schema can state, since JSON Schema cannot compare two fields: a
period does not end before it starts (an absence's or relation's `valid_from` and
`valid_to`, a decision's `period_from` and `period_to`, a service window's `from`
and `to`, which must differ). A 422 to a request whose period ends before it
starts is right, so `filter_failure` drops that one kind of failure for exactly
those requests; every other rule of the same operations is still checked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.openapi.checks import RejectedPositiveData

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


# (start, end, whether the end may equal the start)
PERIODS = (
    ("valid_from", "valid_to", True),
    ("period_from", "period_to", True),
    ("from", "to", False),  # a service window (provider.windows): date-times
)


def _instant(value: Any) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None


def ends_before_it_starts(body: Any) -> bool:
    """Whether the body, at any depth, has a period whose end comes before its start."""
    if isinstance(body, list):
        return any(ends_before_it_starts(item) for item in body)
    if not isinstance(body, dict):
        return False
    for start_name, end_name, may_equal in PERIODS:
        start, end = _instant(body.get(start_name)), _instant(body.get(end_name))
        if start is None or end is None or type(start) is not type(end):
            continue
        try:
            if end < start or (end == start and not may_equal):  # type: ignore[operator]
                return True
        except TypeError:  # an aware and a naive date-time: not comparable, nothing to say
            continue
    return any(ends_before_it_starts(value) for value in body.values())


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Drop only "a valid request rejected" whose 422 answers a period that ends before it starts."""
    return not (
        isinstance(failure, RejectedPositiveData)
        and response.status_code == 422
        and ends_before_it_starts(case.body)
    )
