"""The printable PDF of a message on the running services (messaging at
127.0.0.1:8103, casework and intake for the citizen): the caseworker who linked
the citizen's application turns the e-service on and writes with an attachment;
caseworker and citizen each get a PDF whose text (extracted with pypdf) shows
Från, Till klient with the personnummer, Ämne, the text and the attachment's
name; another caseworker gets problem details."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader

from conftest import (
    Stack,
    bankid_login,
    bearer,
    caseworker_token,
    eventually,
    linked_person,
    new_personnummer,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


async def test_caseworker_and_citizen_print_a_message(stack: Stack, http: httpx.AsyncClient) -> None:
    messaging = stack.url("messaging")
    pnr, name = new_personnummer(), "Annika Utskrift"
    link, caseworker, _ = await linked_person(http, stack, pnr, citizen_name=name)
    activated = await http.put(
        f"{stack.url('casework')}/persons/{link['person_id']}/e-service",
        headers=bearer(caseworker),
        json={"messages_enabled": True},
    )
    assert activated.status_code == 200, activated.text
    citizen = await bankid_login(http, stack, pnr, name)

    async def known() -> bool:
        response = await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))
        return response.status_code == 200 and bool(response.json()["caseworkers"])

    await eventually(known)
    boxes = (await http.get(f"{messaging}/mailboxes", headers=bearer(caseworker))).json()
    box = next(m["id"] for m in boxes if m["kind"] == "personal")
    uploaded = await http.put(
        f"{messaging}/attachments",
        params={"filename": "kallelse till möte.pdf"},
        content=PDF,
        headers={**bearer(caseworker), "content-type": "application/pdf"},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = await http.post(
        f"{messaging}/messages",
        headers=bearer(caseworker),
        json={
            "from_mailbox_id": box,
            "to_client": link["person_id"],
            "subject": "Påminnelse av mötestid",
            "body": "<p>Hej!</p><p>Vi ses <b>torsdag</b> kl 14.00 &amp; tar kaffe.</p>"
            "<script>alert(1)</script>",
            "attachment_ids": [uploaded.json()["id"]],
        },
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]

    staff_text = text_of(await http.get(f"{messaging}/messages/{message_id}/pdf", headers=bearer(caseworker)))
    citizen_text = text_of(
        await http.get(f"{messaging}/e-service/messages/{message_id}/pdf", headers=bearer(citizen))
    )

    for text in (staff_text, citizen_text):
        for shown in (
            "Från",
            "Marita Aronsson",
            "Till klient",
            f"{name} ({pnr[:8]}-{pnr[8:]})",
            "Ämne",
            "Påminnelse av mötestid",
            "Datum",
            "Vi ses torsdag kl 14.00 & tar kaffe.",
            "Bilagor",
            "kallelse till möte.pdf",
        ):
            assert shown in text, (shown, text)
        assert "alert" not in text and "<p>" not in text
    # Printing does not open it: still unread in the e-service.
    mailbox = (await http.get(f"{messaging}/e-service/mailbox", headers=bearer(citizen))).json()
    assert mailbox["unread"] == 1

    other = await caseworker_token(stack, name="Annan Handläggare")
    refused = await http.get(f"{messaging}/messages/{message_id}/pdf", headers=bearer(other))
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await http.get(f"{messaging}/messages/{message_id}/pdf")).status_code == 401
