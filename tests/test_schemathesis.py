"""schemathesis against every operation of the OpenAPI document, for five roles: no 5xx, no answer that
breaks the document (status, content type, schema, headers).

The run sends unsafe requests too, so it has a database of its own: the test below starts a second pytest
session (its own database, Redis and Meilisearch, as tests/conftest.py makes them) running `test_fuzz_run`,
which is skipped in the main session. schemathesis drives the app through Starlette's test client, which
runs in a thread with an event loop of its own; the app and its database connections live in the session's
loop, so each request is forwarded there (`ForwardToLoop`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.helpers import REPO_ROOT

CHILD = "KYOSO_SCHEMATHESIS_RUN"
SEED = 20261129
MAX_EXAMPLES = 10
# The coverage phase (boundary and invalid values of every parameter, unexpected methods) is not bounded by
# MAX_EXAMPLES and mostly meets validation, the same for every role: it runs for the roles at either end.
COVERAGE_ROLES = ("visitor", "operator")


def test_schemathesis_finds_nothing():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", f"{__file__}::test_fuzz_run"],
        env={**os.environ, CHILD: "1"}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    print(f"schemathesis run: {time.monotonic() - started:.0f} s")


class ForwardToLoop:
    """An ASGI app that runs each HTTP request on `app` in `loop` (where its database connections live)."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the real app's lifespan runs in the session
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        answer = asyncio.run_coroutine_threadsafe(self._run({**scope, "state": {}}, body), self.loop)
        for message in await asyncio.wrap_future(answer):
            await send(message)

    async def _run(self, scope: dict, body: bytes) -> list[dict]:
        sent: list[dict] = []
        delivered = False

        async def receive() -> dict:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects first
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        try:
            await self.app(scope, receive, send)
        except Exception:  # Starlette re-raises after answering 500: the 500 is what schemathesis judges
            if not sent:
                raise
        return sent


def _config(token: str | None, coverage: bool) -> Any:
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "color": False,
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}},
        # Every check but positive_data_acceptance: the domain refuses (422) schema-valid input for reasons no
        # schema states (a budget minimum above the maximum, a deadline before the one it follows).
        "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
        "continue-on-failure": True,
    })


def _run(proxy: ForwardToLoop, token: str | None, coverage: bool) -> list[str]:
    """schemathesis' engine over every operation; what it found, as readable lines."""
    import schemathesis
    from schemathesis.engine import Status, events, from_schema

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", proxy, config=_config(token, coverage))
    found: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status == Status.FAILURE:
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        found.append(f"{event.recorder.label} [{check.name}] {check.failure_info.failure.title}: "
                                     f"{check.failure_info.failure.message[:300]}\n    {check.failure_info.code_sample}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'info', event)}")
    return found


@pytest.mark.skipif(os.environ.get(CHILD) != "1", reason="runs in its own session (test_schemathesis_finds_nothing)")
async def test_fuzz_run(app, client, cast, people):
    from tests.review_helpers import open_challenge, submit

    reviewer = await people.make(reviewer=True)
    # Something to find at the small ids schemathesis tries first: a published challenge with a proposal.
    challenge = await open_challenge(client, cast["agency"], cast["operator"])
    await submit(client, cast["company"], challenge["id"])
    tokens = {
        "visitor": None,
        "company": cast["company"]["Authorization"].split(" ", 1)[1],
        "agency member": cast["agency"]["Authorization"].split(" ", 1)[1],
        "reviewer": (await people.token(reviewer))["Authorization"].split(" ", 1)[1],
        "operator": cast["operator"]["Authorization"].split(" ", 1)[1],
    }
    proxy = ForwardToLoop(app, asyncio.get_running_loop())
    found: dict[str, list[str]] = {}
    only = os.environ.get("KYOSO_SCHEMATHESIS_ROLES")  # to run some roles while fixing what they find
    for role, token in tokens.items():
        if only and role not in only.split(","):
            continue
        started = time.monotonic()
        found[role] = await asyncio.to_thread(_run, proxy, token, role in COVERAGE_ROLES)
        print(f"{role}: {time.monotonic() - started:.0f} s, {len(found[role])} failures", flush=True)
    report = "\n".join(f"{role}: {line}" for role, lines in found.items() for line in lines)
    assert not report, report
