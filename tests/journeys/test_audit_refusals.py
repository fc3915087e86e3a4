"""A burst of refused reads: every one answers 403 quickly and leaves its own
audit row. The refusal's row is written on the request's own connection, so a
burst cannot exhaust the pool (issue 12, point 9). Real services and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from conftest import Stack, bearer, caseworker_token, linked_person, new_personnummer, submit_application

BURST = 30  # more than a service's whole pool (10 + 10 overflow)


async def refused_rows(
    http: httpx.AsyncClient, stack: Stack, service: str, pnr: str, actor: str
) -> list[dict[str, object]]:
    reviewer = await stack.token("log_reviewer", name="Logg Granskare", units=["kansliet"])
    response = await http.post(
        f"{stack.url(service)}/access-log/search", headers=bearer(reviewer), json={"personnummer": pnr}
    )
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["actor"] == actor and e["outcome"] == "refused"]


async def burst(http: httpx.AsyncClient, url: str, token: str) -> tuple[list[int], float]:
    started = time.monotonic()
    responses = await asyncio.gather(*(http.get(url, headers=bearer(token)) for _ in range(BURST)))
    return [r.status_code for r in responses], time.monotonic() - started


async def test_thirty_concurrent_refused_reads_of_an_application_leave_thirty_rows(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    a_pnr = new_personnummer()
    a = await stack.token("citizen", pnr=a_pnr, name="Annika Test")
    b_sub = f"citizen-b-{uuid.uuid4().hex[:6]}"
    b = await stack.token("citizen", pnr=new_personnummer(), name="Bertil Test", sub=b_sub)
    application = await submit_application(http, stack, a)

    statuses, seconds = await burst(http, f"{stack.url('intake')}/applications/{application['id']}", b)

    assert statuses == [403] * BURST
    assert seconds < 10, f"{BURST} refusals took {seconds:.1f} s"
    rows = await refused_rows(http, stack, "intake", a_pnr, b_sub)
    assert len(rows) == BURST
    assert {(r["action"], r["object_id"]) for r in rows} == {("read", application["id"])}


async def test_thirty_concurrent_refused_person_reads_in_casework_leave_thirty_rows(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    pnr = new_personnummer()
    link, _, _ = await linked_person(http, stack, pnr)
    other_sub = f"other-{uuid.uuid4().hex[:6]}"
    other = await caseworker_token(stack, name="Kalle Annan", unit="annan-enhet", sub=other_sub)

    statuses, seconds = await burst(http, f"{stack.url('casework')}/persons/{link['person_id']}", other)

    assert statuses == [403] * BURST
    assert seconds < 10, f"{BURST} refusals took {seconds:.1f} s"
    assert len(await refused_rows(http, stack, "casework", pnr, other_sub)) == BURST
