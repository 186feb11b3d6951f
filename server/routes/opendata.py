"""Open data: the datasets as CSV and JSON, the DCAT catalogue, and a read-only CKAN-compatible Action API.

Everything here is public; what may be published is decided in `models.policy.insights`, which datasets
exist in `models.insights.catalogue`. Exports stream batch by batch (never the whole list in memory) and
answer `If-None-Match` with 304 from an ETag computed by aggregate queries, before any row is read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from tortoise import timezone

from models.core.errors import N_, NotFound
from models.insights.catalogue import (
    FORMATS,
    Catalogue,
    Dataset,
    catalogue,
    ckan_organisation,
    ckan_package,
    dcat_page,
    dictionary,
    platform_publisher,
)
from models.insights.datasets import LICENSE
from models.insights.values import iso_jst
from server.i18n import gettext as _
from server.templating import templates

FORMAT_VERSION = "1"  # part of every ETag: bump when the files' layout changes
CKAN_ROWS_DEFAULT = 10
CKAN_ROWS_MAX = 1000
JSONLD_TYPE = "application/ld+json"


def _base(request: Request) -> str:
    return request.app.state.settings.base_url.rstrip("/")


# --- the list ------------------------------------------------------------------------------------


async def data_index(request: Request) -> Response:
    current = await catalogue()
    return templates.TemplateResponse(request, "opendata/index.html", {
        "live": current.live, "withdrawn": [d for d in current.datasets if d.withdrawn],
        "license": LICENSE, "generated_at": timezone.now(),
    })


# --- the files -----------------------------------------------------------------------------------


def _etag(dataset: Dataset, fmt: str, bom: bool) -> str:
    key = f"{FORMAT_VERSION}|{dataset.name}|{fmt}|{bom}|{dataset.modified.isoformat()}|{dataset.rows}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return wanted.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in wanted.split(",")]


def _cell(value: Any) -> Any:
    return "" if value is None else value


async def _csv_chunks(dataset: Dataset, bom: bool) -> AsyncIterator[bytes]:
    assert dataset.kind is not None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in dataset.columns])
    yield (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")
    async for rows in dataset.kind.batches(dataset.agency):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_cell(value) for value in row] for row in rows])
        yield buffer.getvalue().encode("utf-8")


async def _json_chunks(dataset: Dataset, base: str, generated_at: datetime) -> AsyncIterator[bytes]:
    assert dataset.kind is not None
    head = {
        "dataset": dataset.name, "title": dataset.title, "publisher": dataset.publisher.name,
        "license": {"id": LICENSE["id"], "url": LICENSE["url"]}, "generated_at": iso_jst(generated_at),
        "modified": iso_jst(dataset.modified), "catalogue": f"{base}/data/catalog.jsonld",
        "columns": dictionary(dataset.columns),
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [').encode("utf-8")
    names = [column.name for column in dataset.columns]
    first = True
    async for rows in dataset.kind.batches(dataset.agency):
        text = ",".join(json.dumps(dict(zip(names, row)), ensure_ascii=False) for row in rows)
        if text:
            yield (("" if first else ",") + text).encode("utf-8")
            first = False
    yield b"]}"


async def _export(request: Request, fmt: str) -> Response:
    dataset = (await catalogue()).find(request.path_params["dataset"])
    if dataset is None:
        raise NotFound(N_("There is no such dataset."))
    if dataset.withdrawn or dataset.kind is None:
        message = _("This dataset was withdrawn on %(date)s; it is no longer published.",
                    date=iso_jst(dataset.withdrawn_at) or "")
        return Response(message, status_code=410, media_type="text/plain; charset=utf-8")
    bom = fmt == "csv" and request.query_params.get("bom", "1") != "0"
    etag = _etag(dataset, fmt, bom)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Link": f'<{LICENSE["url"]}>; rel="license"'}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    now = timezone.now()
    headers["X-Generated-At"] = iso_jst(now) or ""
    if fmt == "csv":
        headers["Content-Disposition"] = f'inline; filename="{dataset.name}.csv"'
        return StreamingResponse(_csv_chunks(dataset, bom), media_type="text/csv; charset=utf-8", headers=headers)
    return StreamingResponse(_json_chunks(dataset, _base(request), now), media_type="application/json",
                             headers=headers)


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv")


async def export_json(request: Request) -> Response:
    return await _export(request, "json")


# --- DCAT ----------------------------------------------------------------------------------------


async def dcat_catalogue(request: Request) -> Response:
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 0
    document = dcat_page(await catalogue(), _base(request), page, await platform_publisher())
    if document is None:
        raise NotFound(N_("There is no such page of the catalogue."))
    return JSONResponse(document, media_type=JSONLD_TYPE)


# --- CKAN Action API (read only) -----------------------------------------------------------------


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        self.status, self.kind, self.message = status, kind, message


def _ckan_ok(request: Request, result: Any) -> JSONResponse:
    action = request.path_params["action"]
    return JSONResponse({"help": f"{_base(request)}/api/3/action/help_show?name={action}", "success": True,
                         "result": result})


def _ckan_failed(request: Request, error: CkanError) -> JSONResponse:
    action = request.path_params["action"]
    return JSONResponse({"help": f"{_base(request)}/api/3/action/help_show?name={action}", "success": False,
                         "error": {"__type": error.kind, "message": error.message}}, status_code=error.status)


def _int(params: dict[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        raise CkanError(409, "Validation Error", f"{name}: Invalid integer") from None
    if value < 0:
        raise CkanError(409, "Validation Error", f"{name}: Must be a natural number")
    return min(value, maximum) if maximum is not None else value


def _find(current: Catalogue, params: dict[str, Any]) -> Dataset:
    dataset = current.find(str(params.get("id") or params.get("name_or_id") or ""))
    if dataset is None:
        raise CkanError(404, "Not Found Error", "Not found")
    return dataset


FQ_TERM = re.compile(r'([+-]?)([\w.]+):(\[[^\]]*\]|"[^"]*"|\S+)')


def _moment(text: str) -> datetime | None:
    text = text.strip()
    if text in ("*", ""):
        return None
    text = text.replace("Z", "+00:00")
    if text.upper().startswith("NOW"):
        return timezone.now()
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.get_default_timezone())


def _term_matches(dataset: Dataset, package: dict[str, Any], field: str, value: str) -> bool:
    if value.startswith("[") and value.endswith("]"):
        low, _to, high = value[1:-1].partition(" TO ")
        try:
            low_at, high_at = _moment(low), _moment(high)
        except ValueError:
            raise CkanError(409, "Search Query Error", f"Invalid range: {value}") from None
        if field not in ("metadata_modified", "metadata_created"):
            raise CkanError(409, "Search Query Error", f"Ranges are supported on metadata dates, not {field}")
        moment = dataset.withdrawn_at or dataset.modified if field == "metadata_modified" else dataset.first_seen
        return (low_at is None or moment >= low_at) and (high_at is None or moment <= high_at)
    value = value.strip('"')
    fields = {
        "organization": dataset.publisher.name, "owner_org": dataset.publisher.name, "name": dataset.name,
        "id": dataset.name, "groups": dataset.kind_name, "tags": dataset.kind_name, "state": package["state"],
        "license_id": LICENSE["id"], "res_format": " ".join(fmt.upper() for fmt in FORMATS),
    }
    if field not in fields:
        raise CkanError(409, "Search Query Error", f"Unknown field: {field}")
    return value in ("*", fields[field]) or (field == "res_format" and value.upper() in fields[field].split())


def _search(current: Catalogue, base: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = _int(params, "rows", CKAN_ROWS_DEFAULT, CKAN_ROWS_MAX)
    start = _int(params, "start", 0)
    include_deleted = str(params.get("include_deleted", "true")).lower() != "false"
    query = str(params.get("q") or "").strip()
    terms = FQ_TERM.findall(str(params.get("fq") or ""))
    if query == "*:*":
        query = ""
    terms += FQ_TERM.findall(query)
    free = FQ_TERM.sub("", query).strip().casefold()
    found = []
    for dataset in current.datasets:
        if dataset.withdrawn and not include_deleted:
            continue
        package = ckan_package(dataset, base)
        if free and free not in f"{dataset.name} {package['title']} {dataset.title.get('en', '')}".casefold():
            continue
        if all(_term_matches(dataset, package, field, value) != (sign == "-") for sign, field, value in terms):
            found.append(package)
    sort = str(params.get("sort") or "id asc").strip()
    key, _space, order = sort.partition(" ")
    if key not in ("id", "name", "metadata_modified", "metadata_created", "title"):
        raise CkanError(409, "Search Query Error", f"Cannot sort by {key}")
    found.sort(key=lambda package: package[key], reverse=order.strip().lower() == "desc")
    return {"count": len(found), "sort": sort, "results": found[start:start + rows], "facets": {},
            "search_facets": {}}


async def _ckan_result(request: Request, action: str, params: dict[str, Any]) -> Any:
    current = await catalogue()
    base = _base(request)
    if action == "package_list":
        names = [d.name for d in current.live]
        offset = _int(params, "offset", 0)
        limit = _int(params, "limit", len(names))
        return names[offset:offset + limit]
    if action == "package_show":
        return ckan_package(_find(current, params), base)
    if action == "package_search":
        return _search(current, base, params)
    if action == "organization_list":
        publishers = current.publishers()
        if str(params.get("all_fields", "false")).lower() == "true":
            return [ckan_organisation(p, base) | {"package_count": len(_published_by(current, p.name, False))}
                    for p in publishers]
        return [p.name for p in publishers]
    if action == "organization_show":
        wanted = str(params.get("id") or "")
        publisher = next((p for p in current.publishers() if p.name == wanted), None)
        if publisher is None:
            raise CkanError(404, "Not Found Error", "Not found")
        return ckan_organisation(publisher, base, _published_by(current, publisher.name, True))
    if action == "group_show":
        wanted = str(params.get("id") or "")
        members = [d for d in current.datasets if d.kind_name == wanted]
        if not members:
            raise CkanError(404, "Not Found Error", "Not found")
        kind = members[0].kind
        return {"id": wanted, "name": wanted, "title": kind.title["ja"] if kind else wanted,
                "display_name": kind.title["ja"] if kind else wanted, "type": "group", "is_organization": False,
                "state": "active", "description": kind.description["ja"] if kind else "",
                "package_count": len([d for d in members if not d.withdrawn]),
                "packages": [ckan_package(d, base) for d in members]}
    if action == "status_show":
        return {"site_title": "Kyoso", "ckan_version": "2.10.0", "site_url": base, "locale_default": "ja",
                "extensions": []}
    raise CkanError(400, "Bad Request", f"Action name not known: {action}")


def _published_by(current: Catalogue, name: str, include_withdrawn: bool) -> list[Dataset]:
    return [d for d in current.datasets if d.publisher.name == name and (include_withdrawn or not d.withdrawn)]


async def ckan_action(request: Request) -> Response:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                data = dict((await request.form()).items()) if b"=" in body else None
            if not isinstance(data, dict):
                return _ckan_failed(request, CkanError(400, "Bad Request", "The body is not a JSON object"))
            params.update(data)
    try:
        return _ckan_ok(request, await _ckan_result(request, request.path_params["action"], params))
    except CkanError as error:
        return _ckan_failed(request, error)


routes: list[BaseRoute] = [
    Route("/data/", data_index, methods=["GET"], name="data_index"),
    Route("/data/catalog.jsonld", dcat_catalogue, methods=["GET"], name="data_catalogue"),
    Route("/data/{dataset}.csv", export_csv, methods=["GET"], name="data_csv"),
    Route("/data/{dataset}.json", export_json, methods=["GET"], name="data_json"),
    Route("/api/3/action/{action}", ckan_action, methods=["GET", "POST"], name="ckan_action"),
    Route("/api/action/{action}", ckan_action, methods=["GET", "POST"], name="ckan_action_unversioned"),  # as CKAN
]
