"""The JSON API's routing: every operation is declared once, with the pydantic schemas that validate
its input and describe its output; the OpenAPI 3.1 document is generated from the same declarations.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models.policy import Actor
from server.problems import Unauthenticated

PREFIX = "/api/v1"
Handler = Callable[..., Awaitable[Any]]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


@dataclass
class Operation:
    path: str
    method: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    query: type[BaseModel] | None
    public: bool
    status: int
    tags: list[str] = field(default_factory=list)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


class Api:
    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def operation(
        self,
        path: str,
        method: str = "GET",
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        public: bool = False,
        status: int = 200,
        tags: list[str] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare an API operation. The handler gets (request, actor, **path params, body=, query=)."""

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(PREFIX + path, method, handler, summary, body, response, query, public, status, tags or [])
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op
        return [Route(path, _endpoint(ops), methods=list(ops)) for path, ops in by_path.items()]


MAX_JSON_DEPTH = 64


def _unreadable(reason: str) -> HTTPException:
    return HTTPException(400, f"The request body is not valid JSON: {reason}.")


def _refuse_constant(name: str) -> Any:
    raise _unreadable(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _unreadable(f"{text} is too large a number")
    return number


async def _read_json(request: Request) -> Any:
    """The body as JSON, strictly: UTF-8, no NaN or Infinity, at most MAX_JSON_DEPTH levels deep."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8") if raw else "null"
    except UnicodeDecodeError as exc:
        raise _unreadable(f"it is not UTF-8 (at byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _unreadable(f"it is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise _unreadable(f"{exc.msg[:1].lower()}{exc.msg[1:]} at character {exc.pos}") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise _unreadable("it has a number with too many digits") from None
    _check_structure(value)
    return value


def _check_structure(value: Any) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings that cannot be UTF-8 (lone surrogates)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise _unreadable("it has a \\u escape that is not a character") from None
        elif isinstance(item, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                raise _unreadable(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _endpoint(operations: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        op = operations[request.method]
        actor: Actor = request.state.actor
        if not op.public and actor.is_visitor:
            raise Unauthenticated()
        kwargs: dict[str, Any] = dict(request.path_params)
        if op.body is not None:
            kwargs["body"] = op.body.model_validate(await _read_json(request))
        if op.query is not None:
            kwargs["query"] = op.query.model_validate(dict(request.query_params))
        result = await op.handler(request, actor, **kwargs)
        if isinstance(result, Response):
            return result
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return JSONResponse(result, status_code=op.status)

    return endpoint


def openapi_document(api: Api, base_url: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    problem_response = {"content": {"application/problem+json": {"schema": ref(Problem)}}}
    paths: dict[str, Any] = {}
    for op in api.operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": op.tags,
            "responses": {
                str(op.status): {
                    "description": "OK",
                    **({"content": {"application/json": {"schema": ref(op.response)}}} if op.response else {}),
                },
                "4XX": {"description": "Problem", **problem_response},
            },
        }
        if not op.public:
            item["security"] = [{"bearer": []}]
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_params(op.path)
        ]
        if op.query is not None:
            properties = op.query.model_json_schema()["properties"]
            for name, info in op.query.model_fields.items():
                parameters.append(
                    {"name": name, "in": "query", "required": info.is_required(), "schema": properties[name]}
                )
        if parameters:
            item["parameters"] = parameters
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(op.body)}}}
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kyoso API", "version": "1"},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


api = Api()
