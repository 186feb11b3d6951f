"""A contracted joint procurement round as an Open Contracting Data Standard (OCDS 1.1) release package.

One release per round, tagged award and contract. Each member agency is a `buyer` in `parties` with a
contract of its own (`contracts[].buyer`, from the "Buyer per award or contract" extension) whose value is
its share; the lead agency is the tender's `procuringEntity` (and the release's `buyer`); the contractor is
the `supplier`, identified by its corporate number under the `JP-JCN` scheme. Agencies are identified by
their corporate number too when Kyoso knows it, and always by their municipality code (a scheme of our own,
`X-JP-LGCODE`, as org-id.guide lists none for it). The ocid prefix is a placeholder until Kyoso registers
one with the Open Contracting Partnership.
"""

from __future__ import annotations

from typing import Any

from models.core.errors import JST, N_, InvalidTransition
from models.identity.orgs import Organisation
from models.solutions.models import RoundStatus
from models.solutions.procurement import RoundView, unit_name

OCID_PREFIX = "ocds-kyoso0"  # to be replaced by the prefix the Open Contracting Partnership assigns
CONTRACT_BUYER_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_contract_buyer_extension/master/extension.json")
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
MUNICIPALITY_SCHEME = "X-JP-LGCODE"
CORPORATE_SCHEME = "JP-JCN"
CURRENCY = "JPY"


def ocid(round_id: int) -> str:
    return f"{OCID_PREFIX}-procurement-{round_id}"


def _iso(moment: Any) -> str | None:
    return moment.astimezone(JST).isoformat(timespec="seconds") if moment else None


def party_id(organisation: Organisation) -> str:
    if organisation.corporate_number:
        return f"{CORPORATE_SCHEME}-{organisation.corporate_number}"
    return f"{MUNICIPALITY_SCHEME}-{organisation.municipality_code or organisation.id}"


def _reference(organisation: Organisation) -> dict[str, str]:
    return {"id": party_id(organisation), "name": organisation.name_ja or organisation.name_en}


def _party(organisation: Organisation, roles: list[str]) -> dict[str, Any]:
    party: dict[str, Any] = {**_reference(organisation), "roles": roles}
    if organisation.corporate_number:
        party["identifier"] = {"scheme": CORPORATE_SCHEME, "id": organisation.corporate_number,
                               "legalName": organisation.name_ja or organisation.name_en}
    if organisation.municipality_code:
        extra = {"scheme": MUNICIPALITY_SCHEME, "id": organisation.municipality_code,
                 "legalName": organisation.name_ja or organisation.name_en}
        if "identifier" in party:
            party["additionalIdentifiers"] = [extra]
        else:
            party["identifier"] = extra
    if organisation.name_en:
        party["details"] = {"name_en": organisation.name_en}
    return party


def release_package(view: RoundView, base_url: str) -> dict[str, Any]:
    """The round's release package; only a contracted round has one."""
    r = view.round
    if r.status != RoundStatus.CONTRACTED:
        raise InvalidTransition(N_("A round is published as open contracting data once its contract is recorded."),
                                allowed=[])
    base = base_url.rstrip("/")
    item = r.item_ja or r.item_en
    unit = {"name": unit_name(r.unit, "ja"), "scheme": "X-KYOSO-UNIT", "id": r.unit}
    roles: dict[int, list[str]] = {m.agency.id: ["buyer"] for m in view.members}
    roles[view.lead.id] = [*roles.get(view.lead.id, []), "procuringEntity"]
    organisations = {m.agency.id: m.agency for m in view.members} | {view.lead.id: view.lead}
    parties = [_party(organisations[oid], roles[oid]) for oid in roles]
    if view.company is not None:
        parties.append(_party(view.company, ["supplier"]))
    award_id = f"{ocid(r.id)}-award-1"
    award: dict[str, Any] = {"id": award_id, "title": item, "status": "active", "date": _iso(r.contracted_at),
                             "value": {"amount": r.contract_price_yen, "currency": CURRENCY}}
    if view.company is not None:
        award["suppliers"] = [_reference(view.company)]
    contracts = [{
        "id": f"{ocid(r.id)}-contract-{m.member.id}",
        "awardID": award_id,
        "title": item,
        "status": "active",
        "buyer": _reference(m.agency),
        "value": {"amount": m.member.share_yen, "currency": CURRENCY},
        "items": [{"id": "1", "description": item, "quantity": m.member.quantity, "unit": unit}],
        "dateSigned": _iso(r.contracted_at),
    } for m in view.members]
    release = {
        "ocid": ocid(r.id),
        "id": f"{ocid(r.id)}-contracted",
        "date": _iso(r.contracted_at),
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "ja",
        "parties": parties,
        "buyer": _reference(view.lead),
        "tender": {
            "id": f"{ocid(r.id)}-tender",
            "title": item,
            "description": r.item_en or item,
            "status": "complete",
            "procuringEntity": _reference(view.lead),
            "items": [{"id": "1", "description": item, "quantity": view.total_quantity, "unit": unit}],
            "tenderPeriod": {"endDate": _iso(r.closes_at)},
            "documents": [{"id": "round-page", "documentType": "tenderNotice", "title": item,
                           "url": f"{base}/procurements/{r.id}", "format": "text/html"}],
        },
        "awards": [award],
        "contracts": contracts,
    }
    return {
        "uri": f"{base}/api/v1/procurements/{r.id}/ocds",
        "version": "1.1",
        "extensions": [CONTRACT_BUYER_EXTENSION],
        "publishedDate": _iso(r.contracted_at),
        "publisher": {"name": "Kyoso", "uri": base},
        "license": LICENSE,
        "releases": [release],
    }
