"""API conformance of every service, checked by a tool nobody here wrote (issue 11).

Against the running system (`make up` first): for each service, a fitting token
(a citizen from intake's own BankID login, the simulator, for intake and for
messaging's e-service; a caseworker for casework and messaging; an admin for
notify; provider staff for provider), then

    schemathesis run http://127.0.0.1:<port>/openapi.json --checks all

bounded by --max-examples per operation and a time limit per run, and one table:
cases generated and unique failures by kind per run. Each run's full output and
JSON report stay in .run/conformance/ (reproduce a failure with its curl line).
Exit status 1 when any run found a failure or did not finish.

    .venv/bin/python tests/conformance/run.py [--max-examples 50] [--seconds 240]
        [--seed N] [--only intake,casework,...]

Goal: 0 failures on every service. The data it sends is generated, never a
real person's; it writes through the APIs into the development databases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from conftest import (  # noqa: E402  (the repository root goes on the path first)
    SERVICES,
    Infrastructure,
    Stack,
    bankid_login,
    new_personnummer,
)

OUT = ROOT / ".run" / "conformance"
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
HERE = Path(__file__).resolve().parent
HOOKS = HERE / "hooks.py"  # the personnummer format
CONFIG = HERE / "schemathesis.toml"  # what a schema cannot say, and why


@dataclass(frozen=True)
class Run:
    """One schemathesis run: a service, the role its token has, which operations."""

    label: str
    service: str
    role: str
    # Passed on as is (--include-path-regex ...): messaging's e-service half is
    # the citizen's, the rest is staff's.
    filters: tuple[str, ...] = ()


RUNS = (
    Run("intake", "intake", "citizen"),
    Run("casework", "casework", "caseworker"),
    Run("messaging", "messaging", "caseworker", ("--exclude-path-regex", "^/e-service/")),
    Run("messaging e-service", "messaging", "citizen", ("--include-path-regex", "^/e-service/")),
    Run("provider", "provider", "provider"),
    Run("notify", "notify", "admin"),
)


async def token(http: httpx.AsyncClient, stack: Stack, role: str) -> str:
    """A token as the running system issues it: citizens log in through intake's
    BankID simulator (intake signs their tokens), staff get one from the dev issuer."""
    if role == "citizen":
        return await bankid_login(http, stack, new_personnummer(), "Konform Testsson")
    claims: dict[str, Any] = {"name": "Konform Testsson", "units": ["testenhet"]}
    if role == "provider":
        claims.update(provider_id="omsorg-ab", units=["hemtjanst-norr"])
    return await stack.token(role, **claims)


async def tokens(runs: list[Run]) -> dict[str, str]:
    stack = Stack(Infrastructure(kafka_bootstrap="", test_database_url=""))
    async with httpx.AsyncClient(timeout=10) as http:
        return {run.label: await token(http, stack, run.role) for run in runs}


@dataclass
class Outcome:
    run: Run
    seconds: float
    report: dict[str, Any] | None  # schemathesis' JSON report; None when it did not finish
    note: str = ""


def schemathesis(run: Run, bearer_token: str, args: argparse.Namespace) -> Outcome:
    """Run schemathesis on one service; its output goes to .run/conformance/<label>.log."""
    name = run.label.replace(" ", "-")
    report_path = OUT / f"{name}.json"
    report_path.unlink(missing_ok=True)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"http://127.0.0.1:{SERVICES[run.service]}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {bearer_token}",
        "--max-examples",
        str(args.max_examples),
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
        "--no-color",
        # A generator's complaint, not the API's: with many patterned fields,
        # hypothesis filters many drawn cases and would stop testing the
        # operation (seen on messaging's undeclared PUT /attachments).
        "--suppress-health-check",
        "filter_too_much",
        *(("--seed", str(args.seed)) if args.seed is not None else ()),
        *run.filters,
    ]
    started = time.monotonic()
    with (OUT / f"{name}.log").open("w") as log:
        try:
            subprocess.run(
                command,
                env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=args.seconds,
                cwd=OUT,  # its default report folder and caches stay under .run/
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(run, time.monotonic() - started, None, f"stopped after {args.seconds} s")
    seconds = time.monotonic() - started
    if not report_path.exists():
        return Outcome(run, seconds, None, "no report: see the log")
    return Outcome(run, seconds, json.loads(report_path.read_text()))


def table(outcomes: list[Outcome]) -> str:
    """Per run: operations, cases, unique failures in total and per kind (one
    column per failure code that any run found), then what the codes mean."""
    titles: dict[str, str] = {}
    for o in outcomes:
        for f in (o.report or {}).get("failures") or []:
            titles[f["code"]] = f["title"]
    codes = sorted(titles)
    header = ("run", "token", "operations", "cases", "failures", *codes, "seconds", "note")
    rows: list[tuple[str, ...]] = [header]
    for o in outcomes:
        report = o.report or {}
        counts = {f["code"]: f["count"] for f in report.get("failures") or []}
        errors = report.get("errors") or []
        note = o.note or ", ".join(f"error: {e.get('title', '?')}" for e in errors)
        rows.append(
            (
                o.run.label,
                o.run.role,
                str((report.get("operations") or {}).get("tested", "-")),
                str((report.get("test_cases") or {}).get("generated", "-")),
                str(sum(counts.values()) + len(errors)) if o.report is not None else "?",
                *(str(counts.get(code, 0)) for code in codes),
                f"{o.seconds:.0f}",
                note,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    if codes:
        lines += [""] + [f"{code}: {titles[code]}" for code in codes]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=50, help="cases per operation and phase")
    parser.add_argument("--seconds", type=int, default=240, help="time limit of one run")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis' seed, to repeat a run")
    parser.add_argument("--only", default="", help="comma-separated services, e.g. intake,notify")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SERVICES)
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    runs = [r for r in RUNS if not only or r.service in only]
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        bearer_tokens = asyncio.run(tokens(runs))
    except (httpx.HTTPError, AssertionError) as exc:
        print(f"could not get the tokens ({type(exc).__name__}): is the system up (`make up`)?")
        return 2
    outcomes = []
    for run in runs:
        outcome = schemathesis(run, bearer_tokens[run.label], args)
        print(f"{run.label}: {outcome.seconds:.0f} s", flush=True)
        outcomes.append(outcome)
    print()
    print(table(outcomes))
    print(f"\nLogs and JSON reports: {OUT.relative_to(ROOT)}/")
    bad = [o for o in outcomes if o.report is None or o.report.get("failures") or o.report.get("errors")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
