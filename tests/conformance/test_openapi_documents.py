"""What a client reading a service's /openapi.json may rely on (issue 11; the full
check is `make conformance`, schemathesis against the running services).

- every error it can get is declared, as application/problem+json with the Problem schema;
- a body that is not JSON (400) or too large (413) is declared wherever a body is taken;
- a method a path does not have answers 405 with an Allow header naming exactly the
  methods the document gives that path;
- the shared types' rules are in the schema: what a pattern admits, the type accepts.
"""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SERVICES, Stack
from shared.contact import (
    EMAIL_PATTERN,
    MOBILE_PATTERN,
    PHONE_PATTERN,
    normalize_email,
    normalize_mobile,
    normalize_phone,
)
from shared.openapi import PROBLEM_REF, install_openapi
from shared.personnummer import Personnummer
from shared.problems import PROBLEM_JSON, install_problem_handlers

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _hooks() -> Any:
    """tests/conformance/hooks.py, as schemathesis loads it: by its path."""
    spec = importlib.util.spec_from_file_location("conformance_hooks", Path(__file__).with_name("hooks.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _documents(stack: Stack) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        return {s: (await http.get(f"{stack.url(s)}/openapi.json")).json() for s in SERVICES}


async def test_every_error_is_declared_as_problem_details(stack: Stack) -> None:
    wrong = []
    for service, document in (await _documents(stack)).items():
        assert "HTTPValidationError" not in document["components"]["schemas"], service
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                where = f"{service} {method.upper()} {path}"
                for status, response in operation["responses"].items():
                    content = response.get("content") or {}
                    # Every 4xx is a problem; a 5xx too, but for /health/ready's own report.
                    problem = status[0] == "4" or PROBLEM_JSON in content
                    if problem and content != {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}:
                        wrong.append(f"{where} {status}")
                if "requestBody" in operation and not {"400", "413"} <= set(operation["responses"]):
                    wrong.append(f"{where}: takes a body, does not declare 400 and 413")
    assert not wrong, "\n".join(wrong)


async def test_a_method_a_path_lacks_is_405_naming_the_methods_it_has(stack: Stack) -> None:
    wrong = []
    async with httpx.AsyncClient(timeout=10) as http:
        for service, document in (await _documents(stack)).items():
            for path, item in document["paths"].items():
                concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
                response = await http.request("TRACE", f"{stack.url(service)}{concrete}")
                declared = {m.upper() for m in item if m in METHODS}
                allow = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
                # HEAD comes with GET where the framework answers it (the docs routes).
                if response.status_code != 405 or allow - {"HEAD"} != declared:
                    wrong.append(f"{service} TRACE {path}: {response.status_code}, Allow {sorted(allow)}")
    assert not wrong, "\n".join(wrong)


def _fixed_and_templated_paths() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    install_openapi(app)
    router = APIRouter()

    @router.patch("/persons/{person_id}")
    async def change(person_id: uuid.UUID) -> dict[str, str]:
        return {}

    @router.post("/persons/search")
    async def search() -> dict[str, str]:
        return {}

    app.include_router(router)
    return TestClient(app)


def test_a_fixed_path_that_a_template_also_matches_has_its_own_methods() -> None:
    client = _fixed_and_templated_paths()
    # "search" is not a person id: PATCH is a method /persons/search lacks, not a bad id.
    for method in ("PATCH", "GET", "DELETE"):
        response = client.request(method, "/persons/search")
        assert (response.status_code, response.headers["allow"]) == (405, "POST"), method
        assert response.headers["content-type"] == PROBLEM_JSON
    assert client.patch("/persons/not-an-id").status_code == 422
    assert client.post("/persons/search").status_code == 200


@settings(max_examples=100, deadline=None, database=None)
@given(st.from_regex(PHONE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 40))
def test_every_phone_number_the_schema_admits_is_accepted(typed: str) -> None:
    normalize_phone(typed)


@settings(max_examples=100, deadline=None, database=None)
@given(st.from_regex(MOBILE_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 40))
def test_every_mobile_number_the_schema_admits_is_accepted(typed: str) -> None:
    normalize_mobile(typed)


@settings(max_examples=100, deadline=None, database=None)
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 254))
def test_every_email_address_the_schema_admits_is_accepted(typed: str) -> None:
    normalize_email(typed)


def _accepts(normalize: Any, typed: str) -> bool:
    try:
        normalize(typed)
    except ValueError:
        return False
    return True


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.text(alphabet="0123456789+-() 47\t\u00b2\u0663", max_size=20),
    st.sampled_from(["", "0", "+46", "0046", "07"]),
)
def test_what_the_phone_types_accept_the_schema_admits(rest: str, prefix: str) -> None:
    typed = prefix + rest
    assert _accepts(normalize_phone, typed) == bool(re.match(PHONE_PATTERN, typed))
    assert _accepts(normalize_mobile, typed) == bool(re.match(MOBILE_PATTERN, typed))


def _arabic_indic(digits: str) -> str:
    return "".join(chr(0x660 + int(d)) for d in digits)


@pytest.mark.parametrize(
    "typed", ["070-12 34 56\u00b2", "07012345" + _arabic_indic("67"), _arabic_indic("0701234567")]
)
def test_digits_of_other_scripts_are_no_phone_number(typed: str) -> None:
    assert not _accepts(normalize_phone, typed)


def test_digits_of_other_scripts_are_no_personnummer() -> None:
    with pytest.raises(ValueError):
        Personnummer(_arabic_indic("191212121212"))


@settings(max_examples=100, deadline=None, database=None)
@given(_hooks().personnummer())
def test_the_conformance_run_generates_valid_personnummer(typed: str) -> None:
    Personnummer(typed)
