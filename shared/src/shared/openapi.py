"""The OpenAPI document says what the edge really answers (docs/http-edge.md, Conformance).

FastAPI documents its request-validation error as `application/json` with its own
body shape, while every error here is RFC 9457 problem details in
`application/problem+json` (shared.problems). It leaves out what the edge answers
before an endpoint runs: 400 for a body that is not readable JSON, 413 for a body
over the limit (shared.http_limits), 503 with Retry-After over capacity or
with the database away (shared.overload, shared.problems). And pydantic names formats no validator of
the document knows (`ipvanyaddress`). `conform` puts all that right once, on the
generated document, so every service's /openapi.json is what a client gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Never echoes the rejected input.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "For invalid input: where and which rule, never the value.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        },
        "correlation_id": {"type": "string", "description": "For a 500: quote it in a report."},
    },
    "required": ["type", "title", "status", "detail", "instance"],
    # Some problems say more (the unknown codes, the field, max_bytes, retry_after).
    "additionalProperties": True,
}

# Answered by the edge for any operation with a request body, before it runs.
BODY_PROBLEMS: dict[str, str] = {
    "400": "The body is not readable (not JSON, not UTF-8)",
    "413": "The body is larger than this operation accepts",
}

# Answered by the edge for any operation: over capacity (shared.overload) or
# with the database away (shared.problems), always with Retry-After.
UNAVAILABLE = {
    "description": "Over capacity or a dependency is away; retry after Retry-After seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_IP_ANY = {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def _conform_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        if str(status)[:1] not in ("4", "5"):
            continue
        content = response.get("content") or {}
        # FastAPI's 422 (application/json, HTTPValidationError) or a problem
        # declared by shared.problems.problem_responses (no schema yet).
        if status == "422" or PROBLEM_JSON in content:
            response["content"] = _problem_content()
            if status == "422":
                response["description"] = "Invalid input"
    responses.setdefault("503", {**UNAVAILABLE, "content": _problem_content()})
    if "requestBody" in operation:
        for status, description in BODY_PROBLEMS.items():
            responses.setdefault(status, {"description": description, "content": _problem_content()})


def _conform_formats(node: Any) -> Any:
    """pydantic's IPvAnyAddress is `format: ipvanyaddress`, a format JSON Schema
    does not have: say what it means, an IPv4 or IPv6 address."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "ipvanyaddress":
            rest = {k: v for k, v in node.items() if k not in ("type", "format")}
            return {**rest, **_IP_ANY}
        return {k: _conform_formats(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_conform_formats(v) for v in node]
    return node


def _references(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)
    return found


def conform(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document with problem details declared as they are answered."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _conform_responses(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    document = _conform_formats(document)
    schemas = document["components"]["schemas"]
    used = _references({k: v for k, v in document.items() if k != "components"}, set())
    # Follow references between schemas too, before dropping FastAPI's unused ones.
    pending = set(used)
    while pending:
        name = pending.pop()
        for ref in _references(schemas.get(name, {}), set()) - used:
            used.add(ref)
            pending.add(ref)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if name not in used:
            schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the conformed document at /openapi.json (generated once, on first use)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    conformed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not conformed:
            conformed.append(conform(generate()))
            app.openapi_schema = conformed[0]
        return conformed[0]

    app.openapi = openapi  # type: ignore[method-assign]
