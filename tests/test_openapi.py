"""The OpenAPI document is one clients and schemathesis can use: plain paths with integer ids, one schema per
name, every error a route can give described as a problem detail, an example for every request body."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from server.api import Api, SchemaNameClash, openapi_document
from server.ids import MAX_ID

PROBLEM = "application/problem+json"


@pytest.fixture
async def document(client) -> dict:
    return (await client.get("/api/v1/openapi.json")).json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _resolve(document: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


async def test_paths_carry_no_converters_and_ids_are_bounded_integers(document):
    assert "/api/v1/proposals/{proposal_id}" in document["paths"]
    for path, _method, operation in _operations(document):
        assert ":" not in path, path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}, (path, parameter)


async def test_every_error_is_a_documented_problem_detail(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "4XX" not in responses
        errors = {int(status) for status in responses if status.startswith(("4", "5"))}
        assert 401 in errors, (method, path)
        if "security" in operation:
            assert {403, 404} <= errors, (method, path)
        if "requestBody" in operation:
            assert {400, 413, 422} <= errors, (method, path)
        if "parameters" in operation and any(p["in"] == "query" for p in operation["parameters"]):
            assert 422 in errors, (method, path)
        for status in errors:
            assert responses[str(status)]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    invite = document["paths"]["/api/v1/organisations/{id}/invitations"]["post"]
    assert "429" in invite["responses"]


async def test_every_json_request_body_has_a_valid_example(app, document):
    from server.api import api

    bodies = {op.body for op in api.operations if op.body is not None}
    assert bodies
    for model in bodies:
        examples = model.model_json_schema().get("examples")
        assert examples, f"{model.__name__} has no example"
        for example in examples:
            model.model_validate(example)  # raises if the example is not valid
    for path, method, operation in _operations(document):
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
            assert schema.get("examples"), (method, path)


async def test_the_upload_body_is_described(document):
    upload = document["paths"]["/api/v1/challenges/{challenge_id}/attachments"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert {400, 413, 422} <= {int(status) for status in upload["responses"] if status[0] == "4"}


def test_two_schemas_of_one_name_fail_the_document():
    def first_module():
        class Thing(BaseModel):
            a: int
        return Thing

    def second_module():
        class Thing(BaseModel):
            b: str
        return Thing

    api = Api()

    async def one(request, actor):  # pragma: no cover - never called
        return None

    async def two(request, actor):  # pragma: no cover - never called
        return None

    api.operation("/one", response=first_module(), summary="one")(one)
    api.operation("/two", response=second_module(), summary="two")(two)
    with pytest.raises(SchemaNameClash, match="Thing"):
        openapi_document(api, "http://testserver")


async def test_a_method_not_allowed_says_which_are(client, cast):
    response = await client.delete("/api/v1/me", headers=cast["company"])
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "GET" in response.headers["allow"]
    page = await client.delete("/challenges")
    assert page.status_code == 405
    assert "GET" in page.headers["allow"]


async def test_statuses_an_operation_declares_are_documented(document):
    feedback = document["paths"]["/api/v1/proposals/{proposal_id}/feedback"]["get"]
    assert "409" in feedback["responses"]  # before the decision (found by schemathesis)
    upload = document["paths"]["/api/v1/challenges/{challenge_id}/attachments"]["post"]
    assert "type" not in upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"]
