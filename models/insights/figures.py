"""The insights figures: computed by a job into snapshot rows, one per scope (the platform, each agency).

Pages and the API read the latest snapshot; only the job scans the tables. Every series has the same
shape, [{"key", "ja", "en", "value"}], so that charts, tables, CSV and the figures dataset share one reader.
Pilots, solutions, savings and residents' perception are added here when their data exists (no empty
placeholder series before then). The partners' series are the platform's only: counts, never a person.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from tortoise import timezone
from tortoise.functions import Count

from models.challenges.models import Challenge
from models.core.audit import AuditEvent
from models.identity.orgs import Category, Organisation
from models.insights.models import PLATFORM, InsightSnapshot
from models.insights.values import JST, text_of
from models.partners.figures import partner_figures
from models.partners.skills import SKILLS
from models.policy.insights import open_challenge_filter, publishing_agency_filter, received_proposal_filter
from models.proposals.models import Proposal
from models.solutions.procurement import Savings, agency_savings, platform_savings

NEVER = datetime.min.replace(tzinfo=JST)  # a public challenge without a publication moment (made by hand) sorts last
RECENT_CHALLENGES = 20  # proposals per challenge: the most recently published ones
KEEP_SNAPSHOTS = 48  # per scope
MUNICIPALITY_TYPES: dict[str, tuple[str, str]] = {
    "prefecture": ("都道府県", "Prefecture"),
    "ward": ("特別区", "Special ward"),
    "city": ("市", "City"),
    "town": ("町", "Town"),
    "village": ("村", "Village"),
}
PARTNER_SERIES = ("partners", "partner_funnel", "partners_per_skill", "placements_per_municipality",
                  "partner_engagements", "partner_survey", "partner_knowhow")
SERIES = ("per_month", "per_category", "per_municipality", "per_municipality_type", "proposals_per_challenge",
          *PARTNER_SERIES)
PARTNER_ITEMS = {
    "registered": ("登録したパートナー", "Partners registered"),
    "approved": ("承認されたパートナー", "Partners approved"),
    "placed": ("配置されたパートナー", "Partners placed"),
    "placements": ("配置の件数", "Placements"),
    "goal": ("目標（1,000人）", "Goal (1,000)"),
}
FUNNEL_ITEMS = {
    "needs": ("募集（ニーズ）", "Needs posted"),
    "shortlisted": ("候補者を選んだ募集", "Needs with a shortlist"),
    "invited": ("招待した募集", "Needs with an invitation"),
    "placed": ("配置に至った募集", "Needs with a placement"),
}
ENGAGEMENT_ITEMS = {
    "ended": ("終了した業務（報告あり）", "Engagements ended (with a report)"),
    "days_worked": ("報告された稼働日数の合計", "Days worked, total reported"),
    "hours_worked": ("報告された稼働時間の合計", "Hours worked, total reported"),
}
SURVEY_ITEMS = {  # per answer of the follow-up survey; the shares are whole percents of the answers
    "answered": ("回答されたフォローアップ調査", "Follow-up surveys answered"),
    "would_engage_again": ("また依頼したい（回答数）", "Would engage again (answers)"),
    "would_engage_again_percent": ("また依頼したい（回答の％）", "Would engage again (% of answers)"),
    "still_in_use": ("成果を今も使っている（回答数）", "Work still in use (answers)"),
    "still_in_use_percent": ("成果を今も使っている（回答の％）", "Work still in use (% of answers)"),
    "knowhow_kept": ("ノウハウが残った（5段階で4以上、回答数）", "Know-how kept (rated 4 or 5 of 5, answers)"),
    "knowhow_kept_percent": ("ノウハウが残った（回答の％）", "Know-how kept (% of answers)"),
}
PROCUREMENT_ITEMS = {
    "procurement_rounds": ("契約した共同調達", "Joint procurements contracted"),
    "procurement_solo_yen": ("単独調達の見込み額の合計（円）", "Solo estimates, total (yen)"),
    "procurement_contract_yen": ("共同調達の契約額の合計（円）", "Joint contracts, total (yen)"),
    "procurement_saving_yen": ("共同調達による削減額（円）", "Saved by joint procurement (yen)"),
}
TOTALS = {
    "challenges_published": ("公開された課題", "Challenges published"),
    "proposals_received": ("受け付けた提案", "Proposals received"),
    "challenges_decided": ("結果が確定した課題", "Challenges decided"),
    "median_days_to_decision": ("公開から決定までの日数（中央値）", "Median days from publication to decision"),
}


def _type_names(kind: str) -> tuple[str, str]:
    return MUNICIPALITY_TYPES.get(kind, (kind, kind))


def _item(key: str, ja: str, en: str, value: float | int) -> dict[str, Any]:
    return {"key": key, "ja": ja, "en": en, "value": value}


def _months(moments: list[datetime]) -> list[dict[str, Any]]:
    """Challenges per month (Japan time), every month from the first to the last, gaps as zero."""
    counts = Counter(m.astimezone(JST).strftime("%Y-%m") for m in moments)
    if not counts:
        return []
    year, month = map(int, min(counts).split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= max(counts):
        key = f"{year:04d}-{month:02d}"
        out.append(_item(key, f"{year}年{month}月", key, counts.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def figures_of(challenges: list[dict[str, Any]], categories: dict[int, Category], received: dict[int, int],
               decided_at: dict[int, datetime]) -> dict[str, Any]:
    by_category = Counter(c["category_id"] for c in challenges)
    by_type = Counter(c["owner__municipality_type"] for c in challenges)
    by_municipality = Counter(c.get("owner__municipality_code") or "" for c in challenges)
    municipality_names = {c.get("owner__municipality_code") or "": (c.get("owner__name_ja") or "",
                          c.get("owner__name_en") or c.get("owner__name_ja") or "") for c in challenges}
    days = [(decided_at[c["id"]] - c["published_at"]).total_seconds() / 86400
            for c in challenges if c["status"] == "decided" and c["id"] in decided_at and c["published_at"]]
    recent = sorted(challenges, key=lambda c: (c["published_at"] or NEVER, c["id"]), reverse=True)[:RECENT_CHALLENGES]
    uncategorised = ("未分類", "Uncategorised")
    return {
        "totals": [
            _item("challenges_published", *TOTALS["challenges_published"], len(challenges)),
            _item("proposals_received", *TOTALS["proposals_received"],
                  sum(received.get(c["id"], 0) for c in challenges)),
            _item("challenges_decided", *TOTALS["challenges_decided"], len(days)),
            *([_item("median_days_to_decision", *TOTALS["median_days_to_decision"],
                     round(statistics.median(days), 1))] if days else []),
        ],
        "per_month": _months([c["published_at"] for c in challenges if c["published_at"]]),
        "per_category": [
            _item(categories[cid].slug, categories[cid].name_ja, categories[cid].name_en, n) if cid in categories
            else _item("", *uncategorised, n)
            for cid, n in sorted(by_category.items(), key=lambda pair: (-pair[1], pair[0] or 0))
        ],
        "per_municipality": [  # the publishing agency (TMG or a municipality), by its local government code
            _item(code, *municipality_names[code], n)
            for code, n in sorted(by_municipality.items(), key=lambda pair: (-pair[1], pair[0])) if code
        ],
        "per_municipality_type": [
            _item(kind, *_type_names(kind), n)
            for kind, n in sorted(by_type.items(), key=lambda pair: (-pair[1], pair[0] or "")) if kind
        ],
        "proposals_per_challenge": [
            _item(str(c["id"]), text_of(c["title"], "ja") or text_of(c["title"], "en"),
                  text_of(c["title"], "en") or text_of(c["title"], "ja"), received.get(c["id"], 0))
            for c in reversed(recent)
        ],
    }


def figure_rows(figures: dict[str, Any], names: tuple[str, ...] = ("totals", *SERIES)) -> list[list[Any]]:
    """A snapshot's figures as rows (figure, key, label_ja, label_en, value): the figures datasets and CSVs."""
    return [[name, item["key"], item["ja"], item["en"], item["value"]]
            for name in names for item in figures.get(name, [])]


def procurement_series(savings: Savings) -> list[dict[str, Any]]:
    """The contracted joint procurements of a scope, as totals: rounds, solo estimates, contracts, the saving (yen)."""
    values = {"procurement_rounds": savings.rounds, "procurement_solo_yen": savings.solo_yen,
              "procurement_contract_yen": savings.contract_yen, "procurement_saving_yen": savings.saving_yen}
    return [_item(key, *names, values[key]) for key, names in PROCUREMENT_ITEMS.items()]


def _skill_names(skill: str) -> tuple[str, str]:
    ja, en, _category = SKILLS.get(skill, (skill, skill, ""))
    return ja, en


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def engagement_series(partners: dict[str, Any]) -> dict[str, Any]:
    """The ended engagements and the follow-up survey's answers, once there are some (no empty series before)."""
    engagements, survey = partners["engagements"], partners["survey"]
    out: dict[str, Any] = {}
    if engagements["ended"]:
        out["partner_engagements"] = [_item(key, *names, engagements[key]) for key, names in ENGAGEMENT_ITEMS.items()]
    if survey["answered"]:
        values = {**survey, **{f"{key}_percent": _percent(survey[key], survey["answered"])
                               for key in ("would_engage_again", "still_in_use", "knowhow_kept")}}
        out["partner_survey"] = [_item(key, *names, values[key]) for key, names in SURVEY_ITEMS.items()]
        out["partner_knowhow"] = [_item(f"rated_{rating}", f"{rating}（5段階）", f"{rating} of 5", n)
                                  for rating, n in survey["knowhow_retained"].items()]
    return out


def partner_series(partners: dict[str, Any], agencies: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """`partner_figures()` as series; `agencies` names municipality codes (ja, en)."""
    return {
        **engagement_series(partners),
        "partners": [_item(key, *names, partners[key]) for key, names in PARTNER_ITEMS.items()],
        "partner_funnel": [_item(key, *names, partners["funnel"][key]) for key, names in FUNNEL_ITEMS.items()],
        "partners_per_skill": [_item(skill, *_skill_names(skill), n) for skill, n in partners["by_skill"].items()],
        "placements_per_municipality": [
            _item(code, *(agencies.get(code) or (code or "不明", code or "Unknown")), n)
            for code, n in sorted(partners["placements_by_municipality"].items(), key=lambda pair: (-pair[1], pair[0]))
        ],
    }


async def compute_snapshots(now: datetime | None = None) -> list[InsightSnapshot]:
    """Compute the platform's and each publishing agency's figures into new snapshot rows (a job)."""
    now = now or timezone.now()
    challenges = await Challenge.filter(open_challenge_filter()).values(
        "id", "owner_id", "category_id", "status", "title", "published_at", "owner__municipality_type",
        "owner__municipality_code", "owner__name_ja", "owner__name_en")
    categories = {c.id: c for c in await Category.all()}
    received = dict(await Proposal.filter(received_proposal_filter()).annotate(n=Count("id")).group_by(
        "challenge_id").values_list("challenge_id", "n"))
    decided_at: dict[int, datetime] = {}
    for target_id, moment in await AuditEvent.filter(action="challenge.decided", target_type="challenge").order_by(
            "id").values_list("target_id", "created_at"):
        decided_at[int(target_id)] = moment
    by_owner: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for challenge in challenges:
        by_owner[challenge["owner_id"]].append(challenge)
    scopes: list[tuple[str, list[dict[str, Any]]]] = [(PLATFORM, challenges)]
    for agency in await Organisation.filter(publishing_agency_filter(), id__in=list(by_owner) or [0]).order_by(
            "municipality_code"):
        scopes.append((str(agency.municipality_code), by_owner[agency.id]))
    partners = await partner_figures()
    platform_saved = await platform_savings()
    agency_ids = {agency.municipality_code: agency.id for agency in await Organisation.filter(
        municipality_code__in=[scope for scope, _subset in scopes[1:]] or [""])}
    agency_saved = await agency_savings(list(agency_ids.values()))
    agencies = {code: (ja, en or ja) for code, ja, en in await Organisation.filter(
        municipality_code__in=list(partners["placements_by_municipality"]) or [""]).values_list(
        "municipality_code", "name_ja", "name_en")}
    snapshots = []
    for scope, subset in scopes:
        figures = {**figures_of(subset, categories, received, decided_at),
                   **(partner_series(partners, agencies) if scope == PLATFORM else {})}
        saved = platform_saved if scope == PLATFORM else agency_saved.get(agency_ids.get(scope, 0), Savings())
        if saved.rounds:  # the joint procurements' totals once a contract is recorded (no empty figures before)
            figures["totals"] = [*figures["totals"], *procurement_series(saved)]
        snapshots.append(await InsightSnapshot.create(scope=scope, computed_at=now, figures=figures))
    for scope, _subset in scopes:
        old = await InsightSnapshot.filter(scope=scope).order_by("-computed_at", "-id").offset(KEEP_SNAPSHOTS).values_list(
            "id", flat=True)
        if old:
            await InsightSnapshot.filter(id__in=list(old)).delete()
    return snapshots
