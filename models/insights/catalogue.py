"""The catalogue: which datasets exist now, which were withdrawn, and their records as DCAT and CKAN see them.

Live datasets are found from the data (a kind's platform dataset always; an agency's once it has rows and
while the agency is approved). `sync_records` (a job) remembers every dataset ever published, so that one
that disappears (its agency suspended, its kind removed from the registry) is listed as withdrawn — a
harvester then deletes it instead of keeping a stale copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise import timezone

from models.identity.orgs import Organisation, OrgKind
from models.insights.datasets import (
    LICENSE,
    PLATFORM_ORGANISATION,
    REGISTRY,
    Column,
    DatasetKind,
)
from models.insights.models import DatasetRecord
from models.insights.values import iso_jst
from models.policy.insights import publishing_agency_filter

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # `modified` of a dataset that never had a row nor a record
FORMATS = {"csv": "text/csv", "json": "application/json"}
PAGE_SIZE = 50  # datasets per page of the DCAT catalogue
CATALOGUE_TITLE = {"ja": "Kyoso オープンデータ", "en": "Kyoso open data"}
CATALOGUE_DESCRIPTION = {
    "ja": "官民共創プラットフォーム Kyoso が公開するデータ（公開された課題、質問と回答、選定結果、指標）。",
    "en": "Open data of Kyoso, the public-private co-creation platform: published challenges, answers, results "
          "and figures.",
}


@dataclass
class Publisher:
    name: str  # CKAN name: a municipality code, or "kyoso" for the platform
    title: dict[str, str]
    code: str | None = None


@dataclass
class Dataset:
    name: str
    kind_name: str
    publisher: Publisher
    title: dict[str, str]
    modified: datetime
    first_seen: datetime
    kind: DatasetKind | None = None  # None when the kind is no longer in the registry
    agency: Organisation | None = None
    withdrawn_at: datetime | None = None
    rows: int = 0

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.kind.columns if self.kind else ()


@dataclass
class Catalogue:
    datasets: list[Dataset] = field(default_factory=list)

    def find(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

    @property
    def live(self) -> list[Dataset]:
        return [d for d in self.datasets if not d.withdrawn]

    def publishers(self) -> list[Publisher]:
        seen: dict[str, Publisher] = {}
        for dataset in self.datasets:
            seen.setdefault(dataset.publisher.name, dataset.publisher)
        return sorted(seen.values(), key=lambda p: (p.code is not None, p.name))


def dataset_name(kind: str, agency: Organisation | None) -> str:
    return f"{kind}-{agency.municipality_code}" if agency is not None else kind


async def platform_publisher() -> Publisher:
    operator = await Organisation.filter(kind=OrgKind.OPERATOR.value).order_by("id").first()
    title = {"ja": operator.name_ja, "en": operator.name_en} if operator else {"ja": "Kyoso", "en": "Kyoso"}
    return Publisher(PLATFORM_ORGANISATION, title)


def agency_publisher(agency: Organisation) -> Publisher:
    return Publisher(str(agency.municipality_code), {"ja": agency.name_ja, "en": agency.name_en or agency.name_ja},
                     agency.municipality_code)


def _agency_title(kind: DatasetKind, agency: Organisation) -> dict[str, str]:
    return {"ja": f"{kind.title['ja']}（{agency.name_ja}）",
            "en": f"{kind.title['en']} ({agency.name_en or agency.name_ja})"}


async def catalogue() -> Catalogue:
    """Every dataset, live and withdrawn, ordered by name (a few aggregate queries, whatever the data size)."""
    records = {r.name: r for r in await DatasetRecord.all()}
    platform = await platform_publisher()
    states = {name: await kind.states() for name, kind in REGISTRY.items()}
    agency_ids = {key for by_agency in states.values() for key, (_m, rows) in by_agency.items() if key and rows}
    agencies = await Organisation.filter(publishing_agency_filter(), id__in=sorted(agency_ids) or [0])
    found: dict[str, Dataset] = {}

    def add(name: str, kind: DatasetKind, agency: Organisation | None, modified: datetime | None, rows: int) -> None:
        record = records.get(name)
        first_seen = record.first_seen_at if record else (modified or EPOCH)
        found[name] = Dataset(
            name=name, kind_name=kind.name, kind=kind, agency=agency, rows=rows,
            publisher=agency_publisher(agency) if agency else platform,
            title=_agency_title(kind, agency) if agency else dict(kind.title),
            modified=modified or (record.modified_at if record and record.modified_at else first_seen),
            first_seen=first_seen,
        )

    for name, kind in REGISTRY.items():
        modified, rows = states[name].get(None, (None, 0))
        add(name, kind, None, modified, rows)
        if kind.per_agency:
            for agency in agencies:
                modified, rows = states[name].get(agency.id, (None, 0))
                if rows:
                    add(dataset_name(name, agency), kind, agency, modified, rows)
    for name, record in records.items():
        if name not in found:
            found[name] = Dataset(
                name=name, kind_name=record.kind, kind=REGISTRY.get(record.kind),
                publisher=platform if record.organisation == PLATFORM_ORGANISATION else Publisher(
                    record.organisation, dict(record.title.get("publisher") or {}), record.organisation),
                title={"ja": record.title.get("ja", ""), "en": record.title.get("en", "")},
                modified=record.withdrawn_at or record.modified_at or record.first_seen_at,
                first_seen=record.first_seen_at, withdrawn_at=record.withdrawn_at or timezone.now(),
            )
    return Catalogue(sorted(found.values(), key=lambda d: d.name))


async def sync_records(now: datetime | None = None) -> tuple[list[str], list[str]]:
    """Record the datasets published now and mark withdrawn those that are gone; returns (new, withdrawn)."""
    now = now or timezone.now()
    current = await catalogue()
    records = {r.name: r for r in await DatasetRecord.all()}
    added, withdrawn = [], []
    for dataset in current.datasets:
        record = records.get(dataset.name)
        if dataset.withdrawn:
            if record is not None and record.withdrawn_at is None:
                record.withdrawn_at = now
                await record.save(update_fields=["withdrawn_at"])
                withdrawn.append(dataset.name)
            continue
        title = {**dataset.title, "publisher": dataset.publisher.title}
        if record is None:
            await DatasetRecord.create(name=dataset.name, kind=dataset.kind_name, organisation=dataset.publisher.name,
                                       title=title, first_seen_at=min(dataset.first_seen, now),
                                       modified_at=dataset.modified)
            added.append(dataset.name)
        else:
            record.title, record.modified_at, record.withdrawn_at = title, dataset.modified, None
            await record.save(update_fields=["title", "modified_at", "withdrawn_at"])
    return added, withdrawn


# --- records as the catalogues read them --------------------------------------------------------

def _utc_naive(moment: datetime) -> str:
    """CKAN's own format for metadata dates: UTC without an offset (what its harvesters compare)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def dictionary(columns: tuple[Column, ...]) -> list[dict[str, str]]:
    return [{"name": c.name, "type": c.type, "description_ja": c.ja, "description_en": c.en} for c in columns]


def download_url(base: str, name: str, fmt: str) -> str:
    return f"{base}/data/{name}.{fmt}"


def ckan_organisation(publisher: Publisher, base: str, datasets: list[Dataset] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": publisher.name, "name": publisher.name, "title": publisher.title.get("ja", ""),
        "display_name": publisher.title.get("ja", ""), "description": publisher.title.get("en", ""),
        "type": "organization", "is_organization": True, "state": "active", "approval_status": "approved",
        "image_url": "", "extras": [{"key": "title_en", "value": publisher.title.get("en", "")}],
    }
    if publisher.code:
        out["extras"].append({"key": "municipality_code", "value": publisher.code})
    if datasets is not None:
        out["package_count"] = len([d for d in datasets if not d.withdrawn])
        out["packages"] = [ckan_package(d, base) for d in datasets]
    return out


def ckan_package(dataset: Dataset, base: str) -> dict[str, Any]:
    resources = [] if dataset.withdrawn else [
        {
            "id": f"{dataset.name}-{fmt}", "package_id": dataset.name, "name": f"{dataset.title['ja']} ({fmt.upper()})",
            "url": download_url(base, dataset.name, fmt), "format": fmt.upper(), "mimetype": media_type,
            "last_modified": _utc_naive(dataset.modified), "created": _utc_naive(dataset.first_seen),
            "state": "active", "position": position, "url_type": None,
        }
        for position, (fmt, media_type) in enumerate(FORMATS.items())
    ]
    notes = dataset.kind.description if dataset.kind else {}
    return {
        "id": dataset.name, "name": dataset.name, "type": "dataset", "private": False,
        "state": "deleted" if dataset.withdrawn else "active",
        "title": dataset.title.get("ja", ""), "notes": notes.get("ja", ""),
        "url": f"{base}/data/#{dataset.name}", "license_id": LICENSE["id"], "license_title": LICENSE["title"],
        "license_url": LICENSE["url"], "metadata_created": _utc_naive(dataset.first_seen),
        "metadata_modified": _utc_naive(dataset.withdrawn_at or dataset.modified),
        "owner_org": dataset.publisher.name, "organization": ckan_organisation(dataset.publisher, base),
        "groups": [{"id": dataset.kind_name, "name": dataset.kind_name, "title": dataset.kind_name}],
        "tags": [{"name": dataset.kind_name}], "num_tags": 1,
        "resources": resources, "num_resources": len(resources),
        "extras": [
            {"key": "title_en", "value": dataset.title.get("en", "")},
            {"key": "notes_en", "value": notes.get("en", "")},
            {"key": "language", "value": "ja,en"},
            {"key": "data_dictionary", "value": dictionary(dataset.columns)},
            *([{"key": "withdrawn_at", "value": iso_jst(dataset.withdrawn_at)}] if dataset.withdrawn else []),
        ],
    }


# --- DCAT-AP 3 in JSON-LD, paged with Hydra ------------------------------------------------------

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "adms": "http://www.w3.org/ns/adms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct:modified": {"@type": "xsd:dateTime"},
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:license": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "dcat:mediaType": {"@type": "@id"},
    "dcat:landingPage": {"@type": "@id"},
    "adms:status": {"@type": "@id"},
    "hydra:first": {"@type": "@id"},
    "hydra:last": {"@type": "@id"},
    "hydra:next": {"@type": "@id"},
    "hydra:previous": {"@type": "@id"},
}
ADMS_STATUS = "http://purl.org/adms/status/"


def _texts(value: dict[str, str]) -> list[dict[str, str]]:
    return [{"@value": text, "@language": lang} for lang, text in value.items() if text]


def dcat_publisher(publisher: Publisher, base: str) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": f"{base}/data/organisations/{publisher.name}", "@type": "foaf:Agent",
                            "foaf:name": _texts(publisher.title)}
    if publisher.code:
        node["dct:identifier"] = publisher.code
    return node


def dcat_dataset(dataset: Dataset, base: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{base}/data/{dataset.name}", "@type": "dcat:Dataset", "dct:identifier": dataset.name,
        "dct:title": _texts(dataset.title),
        "dct:description": _texts(dataset.kind.description if dataset.kind else {}),
        "dct:publisher": dcat_publisher(dataset.publisher, base),
        "dct:license": LICENSE["url"], "dct:issued": iso_jst(dataset.first_seen),
        "dct:modified": iso_jst(dataset.withdrawn_at or dataset.modified),
        "dcat:landingPage": f"{base}/data/#{dataset.name}",
        "adms:status": ADMS_STATUS + ("Withdrawn" if dataset.withdrawn else "Completed"),
    }
    if not dataset.withdrawn:
        node["dcat:distribution"] = [{
            "@id": f"{base}/data/{dataset.name}#{fmt}", "@type": "dcat:Distribution",
            "dct:title": f"{dataset.name}.{fmt}", "dcat:accessURL": download_url(base, dataset.name, fmt),
            "dcat:downloadURL": download_url(base, dataset.name, fmt),
            "dcat:mediaType": f"https://www.iana.org/assignments/media-types/{media_type}",
            "dct:format": fmt.upper(), "dct:license": LICENSE["url"],
            "dct:modified": iso_jst(dataset.modified),
        } for fmt, media_type in FORMATS.items()]
    return node


def dcat_page(current: Catalogue, base: str, page: int, platform: Publisher) -> dict[str, Any] | None:
    """One page of the catalogue, self-contained (the catalogue's and each publisher's description repeated);
    None past the last page."""
    pages = max(1, math.ceil(len(current.datasets) / PAGE_SIZE))
    if page < 1 or page > pages:
        return None
    url = f"{base}/data/catalog.jsonld"
    chunk = current.datasets[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    view: dict[str, Any] = {"@id": f"{url}?page={page}", "@type": "hydra:PartialCollectionView",
                            "hydra:first": f"{url}?page=1", "hydra:last": f"{url}?page={pages}"}
    if page > 1:
        view["hydra:previous"] = f"{url}?page={page - 1}"
    if page < pages:
        view["hydra:next"] = f"{url}?page={page + 1}"
    return {
        "@context": DCAT_CONTEXT,
        "@id": url,
        "@type": ["dcat:Catalog", "hydra:Collection"],
        "dct:title": _texts(CATALOGUE_TITLE),
        "dct:description": _texts(CATALOGUE_DESCRIPTION),
        "dct:publisher": dcat_publisher(platform, base),
        "dct:license": LICENSE["url"],
        "dct:modified": iso_jst(max((d.modified for d in current.datasets), default=EPOCH)),
        "dct:language": ["ja", "en"],
        "hydra:totalItems": len(current.datasets),
        "hydra:view": view,
        "dcat:dataset": [dcat_dataset(d, base) for d in chunk],
    }
