"""The service codes the OpenAPI document states (intake.catalogue.codes) are the
catalogue in the database, entry point by entry point (issue 11, conformance)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.applications import service
from intake.applications.schemas import ApplicationCreate
from intake.catalogue import service as catalogue
from intake.catalogue.codes import APPLICABLE
from shared.auth import User
from shared.problems import InvalidInput


async def test_the_stated_codes_are_the_catalogue_in_the_database(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue, "_snapshot", None)  # read the database, not the cache
    rows = await catalogue.list_all(session)
    for entry, codes in APPLICABLE.items():
        assert codes == tuple(r.code for r in rows if r.entry == entry), entry


def test_the_schema_offers_each_entry_only_its_own_services() -> None:
    schema = ApplicationCreate.model_json_schema()
    by_entry = {
        branch["properties"]["entry"]["const"]: branch["properties"]["services"]["items"]["enum"]
        for branch in schema["oneOf"]
    }
    assert by_entry == {entry: list(codes) for entry, codes in APPLICABLE.items()}
    assert "meddelande_ifo" not in schema["properties"]["services"]["items"]["enum"]


async def test_a_code_outside_the_stated_ones_is_refused(
    session: AsyncSession, make_citizen: Callable[..., User]
) -> None:
    for entry, code in (("sol", "0"), ("sol", "meddelande_ifo"), ("lss", APPLICABLE["sol"][0])):
        with pytest.raises(InvalidInput):
            await service.submit(
                session, make_citizen(), ApplicationCreate(entry=entry, services=[code], description="x")
            )


def test_a_blank_description_is_refused_as_the_schema_says() -> None:
    # The schema's pattern: a character that is not whitespace; "\x85" is whitespace too.
    with pytest.raises(ValidationError):
        ApplicationCreate(entry="sol", services=["hemtjanst"], description=" \x85\u3000\t")
