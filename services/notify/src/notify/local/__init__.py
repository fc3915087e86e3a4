"""DEVELOPMENT counterparts of notify's two channels — never for production.

- `python -m notify.local.mail_server`: an SMTP server (aiosmtpd) that keeps
  what it receives and lists it over HTTP;
- `python -m notify.local.sms_gateway`: an SMS gateway speaking 46elks' API
  that keeps what it receives and posts delivery reports back.

Both can be told to fail, delay or refuse (docs/notify-local.md), bind to
127.0.0.1 only, and refuse to start unless OMSORG_ENVIRONMENT says development
or test. deploy/omsorg.sh starts them as `devmail` and `devsms`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from shared.settings import ConfigurationRefused, require_development

# Loopback only: they accept anything, from anyone who can reach them.
HOST = "127.0.0.1"


def run(what: str, build: Callable[[], FastAPI], port: int) -> None:
    """Refuse production, then build the app and serve it on 127.0.0.1:`port` until SIGTERM/SIGINT."""
    try:
        require_development(what)
    except ConfigurationRefused as refused:
        raise SystemExit(str(refused)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # No access log: its lines would carry the query (?to=<number or address>).
    config = uvicorn.Config(build(), host=HOST, port=port, access_log=False, log_level="info")
    asyncio.run(uvicorn.Server(config).serve())
