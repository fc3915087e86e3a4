"""Print a development token for a role: `make token ROLE=caseworker`.

Example identities per role; override with SUB=, PNR=, NAME=, UNITS=a,b, PROVIDER_ID=.
Provider staff (ROLE=provider, ROLE=provider_manager) get in only as active users
of a registered provider: pass its id and unit codes, e.g.
`make token ROLE=provider_manager SUB=mgr-1 PROVIDER_ID=<id from POST /providers> UNITS=hemtjanst-norr`
(docs/provider.md).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

ISSUER = os.environ.get("OMSORG_ISSUER_URL", "http://127.0.0.1:8100")

# Provider ids are UUIDs (provider's POST /providers makes them): override with PROVIDER_ID=.
EXAMPLE_PROVIDER_ID = "00000000-0000-4000-8000-000000000001"

EXAMPLES: dict[str, dict[str, object]] = {
    "citizen": {"sub": "citizen-1", "name": "Tolvan Tolvansson", "pnr": "191212121212"},
    "caseworker": {"sub": "caseworker-1", "name": "Marita Aronsson", "units": ["testenhet"]},
    "log_reviewer": {"sub": "reviewer-1", "name": "Lena Loggkontroll", "units": ["testenhet"]},
    "fee_administrator": {"sub": "fees-1", "name": "Anna Avgift", "units": ["avgift"]},
    "provider": {
        "sub": "provider-1",
        "name": "Ulla Utförare",
        "provider_id": EXAMPLE_PROVIDER_ID,
        "units": ["hemtjanst-norr"],
    },
    "provider_manager": {
        "sub": "provider-manager-1",
        "name": "Maja Chef",
        "provider_id": EXAMPLE_PROVIDER_ID,
        "units": ["hemtjanst-norr"],
    },
    "admin": {"sub": "admin-1", "name": "Åsa Admin", "units": ["kommunen"]},
}


def main() -> int:
    role = sys.argv[1] if len(sys.argv) > 1 else "citizen"
    claims = dict(EXAMPLES.get(role, {"sub": f"{role}-1", "name": role, "units": ["testenhet"]}))
    for env, claim in (("PNR", "pnr"), ("NAME", "name"), ("SUB", "sub"), ("PROVIDER_ID", "provider_id")):
        if os.environ.get(env):
            claims[claim] = os.environ[env]
    if os.environ.get("UNITS"):
        claims["units"] = os.environ["UNITS"].split(",")
    request = urllib.request.Request(
        f"{ISSUER}/token",
        data=json.dumps({"role": role, **claims}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        print(json.load(response)["access_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
