"""JSON request bodies are parsed strictly, in one place (server/api.py): what cannot be read is a 400
problem detail saying why, never a 500 and never a value stored."""

from __future__ import annotations

import pytest

from models.challenges.models import Challenge

DEEP = 100_000
CASES = {
    "nan": (b'{"title": NaN}', "NaN is not a number JSON allows"),
    "infinity": (b'{"budget": Infinity}', "Infinity is not a number JSON allows"),
    "minus-infinity": (b'{"budget": -Infinity}', "-Infinity is not a number JSON allows"),
    "overflowing-float": (b'{"budget": 1e999}', "1e999 is too large a number"),
    "deep": (b"[" * DEEP + b"]" * DEEP, "nested more than 64 levels deep"),
    "just-too-deep": (b'{"a": ' * 65 + b"1" + b"}" * 65, "nested more than 64 levels deep"),
    "invalid-utf-8": (b'{"title": "caf\xe9"}', "it is not UTF-8 (at byte 14)"),
    "lone-surrogate": (b'{"title": "\\ud800"}', "a \\u escape that is not a character"),
    "malformed": (b"{nope", "expecting property name enclosed in double quotes at character 1"),
    "huge-integer": (b'{"budget": ' + b"9" * 5000 + b"}", "it has a number with too many digits"),
}


@pytest.mark.parametrize("name", CASES)
async def test_unreadable_json_is_a_400_saying_what_is_wrong(client, cast, name):
    body, reason = CASES[name]
    before = await Challenge.all().count()
    response = await client.post("/api/v1/challenges", content=body,
                                 headers={**cast["agency"], "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["detail"].startswith("The request body is not valid JSON")
    assert reason in problem["detail"]
    assert await Challenge.all().count() == before


async def test_nesting_up_to_the_limit_reaches_validation(client, cast):
    body = b'{"title": ' + b"[" * 63 + b"]" * 63 + b"}"  # 64 levels: read, then refused by the schema
    response = await client.post("/api/v1/challenges", content=body,
                                 headers={**cast["agency"], "content-type": "application/json"})
    assert response.status_code == 422
