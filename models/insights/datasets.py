"""The open datasets: a registry of kinds, each with its data dictionary and its rows read in batches.

A kind is published once for the whole platform ("challenges") and, when `per_agency`, once per agency
that has something to publish ("challenges-131016"). A new area becomes one more `DatasetKind` in
`REGISTRY` (its columns, a `batches` reader and a `states` query),
and the files, the catalogue, the CKAN API and the withdrawal records pick it up with no other change.

Rows are read with keyset pagination (`id > last`, BATCH at a time), so that an export of any size is
streamed without holding the whole list. What may appear is decided by `models.policy.insights`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count, Max

from models.challenges.models import Challenge, Question
from models.identity.orgs import Organisation
from models.insights.figures import PARTNER_SERIES, figure_rows
from models.insights.models import PLATFORM, InsightSnapshot
from models.insights.values import decoded, iso_jst, text_of
from models.pilots.models import Measurement, Pilot
from models.policy.insights import (
    decided_challenge_filter,
    open_answer_filter,
    open_challenge_filter,
    open_measurement_filter,
    open_pilot_filter,
    received_proposal_filter,
)
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion
from models.solutions.datasets import solution_rows, solution_state
from models.solutions.models import ProcurementRound, RoundMember, RoundStatus

BATCH = 1000
LICENSE = {
    "id": "CC-BY-4.0",  # SPDX identifier
    "ckan_id": "cc-by",
    "title": "Creative Commons Attribution 4.0 International",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
PLATFORM_ORGANISATION = "kyoso"  # the CKAN name of the platform operator; agencies are named by municipality code

Row = list[Any]
# agency id (None: the whole platform) -> (last modified, rows or a proxy of them), for ETags and `modified`.
States = dict[int | None, tuple[datetime | None, int]]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "integer", "number", "string", "datetime" (ISO 8601, Japan time)
    ja: str
    en: str


@dataclass(frozen=True)
class DatasetKind:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    columns: tuple[Column, ...]
    batches: Callable[[Organisation | None], AsyncIterator[list[Row]]]
    states: Callable[[], Awaitable[States]]
    per_agency: bool = True


def _with_total(rows: list[dict[str, Any]], key: str) -> States:
    states: States = {row[key]: (row["modified"], row["rows"]) for row in rows}
    moments = [modified for modified, _n in states.values() if modified is not None]
    states[None] = (max(moments, default=None), sum(n for _m, n in states.values()))
    return states


async def _pages(query: Any, fields: tuple[str, ...]) -> AsyncIterator[list[dict[str, Any]]]:
    """Rows of `query` as dicts, BATCH at a time, by increasing id."""
    last = 0
    while True:
        chunk = await query.filter(id__gt=last).order_by("id").limit(BATCH).values(*fields)
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["id"]


# --- published challenges ------------------------------------------------------------------------

CHALLENGE_COLUMNS = (
    Column("challenge_id", "integer", "課題ID", "Challenge id"),
    Column("url", "string", "課題ページのURL（パス）", "The challenge's page (path)"),
    Column("title_ja", "string", "課題名（日本語）", "Title in Japanese"),
    Column("title_en", "string", "課題名（英語）", "Title in English"),
    Column("summary_ja", "string", "概要（日本語）", "Summary in Japanese"),
    Column("summary_en", "string", "概要（英語）", "Summary in English"),
    Column("status", "string", "状態（published, closed, decided, cancelled）",
           "Status (published, closed, decided, cancelled)"),
    Column("category", "string", "分野（スラッグ）", "Category (slug)"),
    Column("municipality_code", "string", "全国地方公共団体コード", "Local government code (全国地方公共団体コード)"),
    Column("agency_ja", "string", "団体名（日本語）", "Agency name in Japanese"),
    Column("agency_en", "string", "団体名（英語）", "Agency name in English"),
    Column("municipality_type", "string", "団体の種類", "Type of municipality"),
    Column("budget_min_yen", "integer", "予算の下限（円）", "Budget, lower bound (yen)"),
    Column("budget_max_yen", "integer", "予算の上限（円）", "Budget, upper bound (yen)"),
    Column("published_at", "datetime", "公開日時（日本時間）", "Published at (Japan time)"),
    Column("questions_deadline", "datetime", "質問の締切（日本時間）", "Questions deadline (Japan time)"),
    Column("proposals_deadline", "datetime", "提案の締切（日本時間）", "Proposals deadline (Japan time)"),
    Column("updated_at", "datetime", "最終更新日時（日本時間）", "Last updated at (Japan time)"),
)
CHALLENGE_FIELDS = (
    "id", "title", "summary", "status", "category__slug", "owner__municipality_code", "owner__name_ja",
    "owner__name_en", "owner__municipality_type", "budget_min_yen", "budget_max_yen", "published_at",
    "questions_deadline", "proposals_deadline", "updated_at",
)


async def challenge_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    query = Challenge.filter(open_challenge_filter())
    if agency is not None:
        query = query.filter(owner_id=agency.id)
    async for chunk in _pages(query, CHALLENGE_FIELDS):
        yield [[
            c["id"], f"/challenges/{c['id']}", text_of(c["title"], "ja"), text_of(c["title"], "en"),
            text_of(c["summary"], "ja"), text_of(c["summary"], "en"), c["status"], c["category__slug"],
            c["owner__municipality_code"], c["owner__name_ja"], c["owner__name_en"], c["owner__municipality_type"],
            c["budget_min_yen"], c["budget_max_yen"], iso_jst(c["published_at"]), iso_jst(c["questions_deadline"]),
            iso_jst(c["proposals_deadline"]), iso_jst(c["updated_at"]),
        ] for c in chunk]


async def challenge_states() -> States:
    rows = await Challenge.filter(open_challenge_filter()).annotate(
        modified=Max("updated_at"), rows=Count("id")).group_by("owner_id").values("owner_id", "modified", "rows")
    return _with_total(rows, "owner_id")


# --- published answers -----------------------------------------------------------------------------

ANSWER_COLUMNS = (
    Column("question_id", "integer", "質問ID", "Question id"),
    Column("challenge_id", "integer", "課題ID", "Challenge id"),
    Column("challenge_title_ja", "string", "課題名（日本語）", "Challenge title in Japanese"),
    Column("challenge_title_en", "string", "課題名（英語）", "Challenge title in English"),
    Column("municipality_code", "string", "全国地方公共団体コード", "Local government code (全国地方公共団体コード)"),
    Column("question", "string", "質問（質問者は公開しない）", "The question (who asked is never published)"),
    Column("answer", "string", "回答", "The answer"),
    Column("answered_at", "datetime", "回答日時（日本時間）", "Answered at (Japan time)"),
)
ANSWER_FIELDS = ("id", "challenge_id", "challenge__title", "challenge__owner__municipality_code", "body", "answer",
                 "answered_at")


async def answer_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    query = Question.filter(open_answer_filter())
    if agency is not None:
        query = query.filter(challenge__owner_id=agency.id)
    async for chunk in _pages(query, ANSWER_FIELDS):
        yield [[
            q["id"], q["challenge_id"], text_of(q["challenge__title"], "ja"), text_of(q["challenge__title"], "en"),
            q["challenge__owner__municipality_code"], q["body"], q["answer"], iso_jst(q["answered_at"]),
        ] for q in chunk]


async def answer_states() -> States:
    rows = await Question.filter(open_answer_filter()).annotate(
        modified=Max("answered_at"), rows=Count("id")).group_by("challenge__owner_id").values(
        "challenge__owner_id", "modified", "rows")
    return _with_total(rows, "challenge__owner_id")


# --- results -------------------------------------------------------------------------------------

RESULT_COLUMNS = (
    Column("challenge_id", "integer", "課題ID", "Challenge id"),
    Column("challenge_title_ja", "string", "課題名（日本語）", "Challenge title in Japanese"),
    Column("challenge_title_en", "string", "課題名（英語）", "Challenge title in English"),
    Column("municipality_code", "string", "全国地方公共団体コード", "Local government code (全国地方公共団体コード)"),
    Column("proposals_received", "integer", "受け付けた提案の数（取り下げを除く）",
           "Proposals received (withdrawn ones excluded)"),
    Column("proposals_selected", "integer", "採択された提案の数", "Proposals selected"),
    Column("proposal_title", "string", "採択された提案の題名（最後に提出された版）",
           "Title of the selected proposal (its last submitted version)"),
    Column("company_ja", "string", "提案した企業（日本語）", "Proposing company in Japanese"),
    Column("company_en", "string", "提案した企業（英語）", "Proposing company in English"),
    Column("corporate_number", "string", "法人番号", "Corporate number (法人番号)"),
    Column("decided_at", "datetime", "結果の確定日時（日本時間）", "Result decided at (Japan time)"),
)


async def result_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    """One row per selected proposal of a decided challenge (one row with no proposal when none was)."""
    query = Challenge.filter(decided_challenge_filter())
    if agency is not None:
        query = query.filter(owner_id=agency.id)
    async for chunk in _pages(query, ("id", "title", "owner__municipality_code", "updated_at")):
        ids = [c["id"] for c in chunk]
        received = dict(await Proposal.filter(received_proposal_filter(), challenge_id__in=ids).annotate(
            n=Count("id")).group_by("challenge_id").values_list("challenge_id", "n"))
        selected = await Proposal.filter(challenge_id__in=ids, status=ProposalStatus.SELECTED.value).order_by(
            "challenge_id", "id").values("id", "challenge_id", "company__name_ja", "company__name_en",
                                         "company__corporate_number")
        titles: dict[int, str] = {}  # the last submitted version's title, never the working copy
        versions = ProposalVersion.filter(proposal_id__in=[p["id"] for p in selected] or [0]).order_by("version")
        for proposal_id, content in await versions.values_list("proposal_id", "content"):
            titles[proposal_id] = str((decoded(content) or {}).get("title") or "")
        rows: list[Row] = []
        for c in chunk:
            chosen: list[dict[str, Any] | None] = [p for p in selected if p["challenge_id"] == c["id"]]
            head = [c["id"], text_of(c["title"], "ja"), text_of(c["title"], "en"), c["owner__municipality_code"],
                    received.get(c["id"], 0), len(chosen)]
            for p in chosen or [None]:  # a challenge with no selected proposal is one row
                tail = [titles.get(p["id"], ""), p["company__name_ja"], p["company__name_en"],
                        p["company__corporate_number"]] if p else [None, None, None, None]
                rows.append([*head, *tail, iso_jst(c["updated_at"])])
        yield rows


async def result_states() -> States:
    rows = await Challenge.filter(decided_challenge_filter()).annotate(
        modified=Max("updated_at"), rows=Count("id")).group_by("owner_id").values("owner_id", "modified", "rows")
    return _with_total(rows, "owner_id")


# --- platform figures ----------------------------------------------------------------------------

FIGURE_COLUMNS = (
    Column("figure", "string", "指標", "Figure"),
    Column("key", "string", "区分（月、分野、団体の種類、課題ID など）",
           "Breakdown (month, category, municipality type, challenge id...)"),
    Column("label_ja", "string", "区分の名前（日本語）", "Breakdown label in Japanese"),
    Column("label_en", "string", "区分の名前（英語）", "Breakdown label in English"),
    Column("value", "number", "値", "Value"),
    Column("computed_at", "datetime", "集計日時（日本時間）", "Computed at (Japan time)"),
)


async def latest_snapshot(scope: str) -> InsightSnapshot | None:
    return await InsightSnapshot.filter(scope=scope).order_by("-computed_at", "-id").first()


async def figure_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    snapshot = await latest_snapshot(agency.municipality_code if agency and agency.municipality_code else PLATFORM)
    if snapshot is not None:
        yield [[*row, iso_jst(snapshot.computed_at)] for row in figure_rows(snapshot.figures)]


async def figure_states() -> States:
    states: States = {}
    codes = dict(await Organisation.filter(municipality_code__not_isnull=True).values_list("municipality_code", "id"))
    latest = await InsightSnapshot.annotate(modified=Max("computed_at"), rows=Count("id")).group_by("scope").values_list(
        "scope", "modified", "rows")
    for scope, modified, rows in latest:
        key = None if scope == PLATFORM else codes.get(scope)
        if scope == PLATFORM or key is not None:
            states[key] = (modified, rows)
    return states


# --- partners (aggregates only) ------------------------------------------------------------------

PARTNER_COLUMNS = (
    Column("figure", "string",
           "指標（partners: 人数と目標、partner_funnel: 募集から配置まで、partners_per_skill: スキル別の承認済み"
           "パートナー数、placements_per_municipality: 団体別の配置件数、partner_engagements: 終了した業務と"
           "稼働日数・時間、partner_survey: フォローアップ調査の回答、partner_knowhow: ノウハウが残った度合い別の回答数）",
           "Figure (partners: counts and the goal, partner_funnel: from need to placement, partners_per_skill: "
           "approved partners per skill, placements_per_municipality: placements per agency, partner_engagements: "
           "engagements ended and the days and hours worked, partner_survey: follow-up survey answers, "
           "partner_knowhow: answers per rating of the know-how kept)"),
    Column("key", "string", "区分（registered, approved, placed, placements, goal、スキル、全国地方公共団体コード、"
           "ended, days_worked, would_engage_again_percent など）",
           "Breakdown (registered, approved, placed, placements, goal, skill, local government code, ended, "
           "days_worked, would_engage_again_percent...)"),
    Column("label_ja", "string", "区分の名前（日本語）", "Breakdown label in Japanese"),
    Column("label_en", "string", "区分の名前（英語）", "Breakdown label in English"),
    Column("value", "integer", "件数（人数・日数・時間。_percent で終わる区分は回答に占める割合、％）",
           "Count (people, days, hours; a key ending in _percent is a whole percent of the answers)"),
    Column("computed_at", "datetime", "集計日時（日本時間）", "Computed at (Japan time)"),
)


async def partner_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    """The platform snapshot's partner series: counts only, never a person (platform-wide, no agency files)."""
    snapshot = await latest_snapshot(PLATFORM)
    if snapshot is not None and agency is None:
        partners = {name: snapshot.figures.get(name, []) for name in PARTNER_SERIES}
        yield [[*row, iso_jst(snapshot.computed_at)] for row in figure_rows(partners, PARTNER_SERIES)]


async def partner_states() -> States:
    snapshot = await latest_snapshot(PLATFORM)
    if snapshot is None:
        return {}
    return {None: (snapshot.computed_at, sum(len(snapshot.figures.get(name, [])) for name in PARTNER_SERIES))}


# --- joint procurement rounds (contracted ones: public) ------------------------------------------------

PROCUREMENT_COLUMNS = (
    Column("procurement_id", "integer", "共同調達ID", "Joint procurement id"),
    Column("url", "string", "共同調達のページのURL（パス）", "The round's page (path)"),
    Column("ocds_url", "string", "OCDSリリースパッケージのURL（パス）", "Its OCDS release package (path)"),
    Column("item_ja", "string", "調達するもの（日本語）", "What is bought, in Japanese"),
    Column("item_en", "string", "調達するもの（英語）", "What is bought, in English"),
    Column("unit", "string", "単位（licence, seat, resident など）", "Unit (licence, seat, resident...)"),
    Column("solution_id", "integer", "ソリューションID", "Solution id"),
    Column("lead_municipality_code", "string", "幹事団体の全国地方公共団体コード", "Lead agency's local government code"),
    Column("lead_ja", "string", "幹事団体名（日本語）", "Lead agency in Japanese"),
    Column("lead_en", "string", "幹事団体名（英語）", "Lead agency in English"),
    Column("member_municipality_codes", "string", "参加団体の全国地方公共団体コード（空白区切り）",
           "Member agencies' local government codes (space-separated)"),
    Column("members", "integer", "参加団体の数", "Number of member agencies"),
    Column("contract_price_yen", "integer", "契約額（円）", "Contract price (yen)"),
    Column("saving_yen", "integer", "単独調達の見込み額の合計と比べた削減額（円）",
           "Saving against the members' solo estimates (yen)"),
    Column("company_corporate_number", "string", "契約先の法人番号", "Contractor's corporate number"),
    Column("contracted_at", "datetime", "契約の記録日時（日本時間）", "Contract recorded at (Japan time)"),
)
PROCUREMENT_FIELDS = (
    "id", "item_ja", "item_en", "unit", "solution_id", "lead__municipality_code", "lead__name_ja", "lead__name_en",
    "contract_price_yen", "company__corporate_number", "contracted_at",
)


async def procurement_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    query = ProcurementRound.filter(status=RoundStatus.CONTRACTED.value)
    if agency is not None:
        query = query.filter(lead_id=agency.id)
    async for chunk in _pages(query, PROCUREMENT_FIELDS):
        members: dict[int, list[dict[str, Any]]] = {}
        for m in await RoundMember.filter(round_id__in=[r["id"] for r in chunk]).order_by("id").values(
                "round_id", "agency__municipality_code", "saving_yen"):
            members.setdefault(m["round_id"], []).append(m)
        yield [[
            r["id"], f"/procurements/{r['id']}", f"/api/v1/procurements/{r['id']}/ocds", r["item_ja"], r["item_en"],
            r["unit"], r["solution_id"], r["lead__municipality_code"], r["lead__name_ja"], r["lead__name_en"],
            " ".join(str(m["agency__municipality_code"] or "") for m in members.get(r["id"], [])),
            len(members.get(r["id"], [])), r["contract_price_yen"],
            sum(int(m["saving_yen"] or 0) for m in members.get(r["id"], [])), r["company__corporate_number"],
            iso_jst(r["contracted_at"]),
        ] for r in chunk]


async def procurement_states() -> States:
    rows = await ProcurementRound.filter(status=RoundStatus.CONTRACTED.value).annotate(
        modified=Max("contracted_at"), rows=Count("id")).group_by("lead_id").values("lead_id", "modified", "rows")
    return _with_total(rows, "lead_id")
# --- pilots (verified KPI values only) -----------------------------------------------------------

PILOT_COLUMNS = (
    Column("pilot_id", "integer", "実証ID", "Pilot id"),
    Column("url", "string", "実証ページのURL（パス）", "The pilot's page (path)"),
    Column("challenge_id", "integer", "課題ID", "Challenge id"),
    Column("challenge_title_ja", "string", "課題名（日本語）", "Challenge title in Japanese"),
    Column("challenge_title_en", "string", "課題名（英語）", "Challenge title in English"),
    Column("municipality_code", "string", "全国地方公共団体コード", "Local government code (全国地方公共団体コード)"),
    Column("company_ja", "string", "実施する企業（日本語）", "Company running it in Japanese"),
    Column("company_en", "string", "実施する企業（英語）", "Company running it in English"),
    Column("corporate_number", "string", "法人番号", "Corporate number (法人番号)"),
    Column("status", "string", "状態（running, paused, under_evaluation, adopted, stopped）",
           "Status (running, paused, under_evaluation, adopted, stopped)"),
    Column("starts_on", "string", "開始日", "Start date"),
    Column("ends_on", "string", "終了日", "End date"),
    Column("kpi", "string", "KPIのキー（検証済みの値がない実証は空）", "KPI key (empty for a pilot with no verified value)"),
    Column("kpi_name_ja", "string", "KPI名（日本語）", "KPI name in Japanese"),
    Column("kpi_name_en", "string", "KPI名（英語）", "KPI name in English"),
    Column("unit", "string", "単位", "Unit"),
    Column("direction", "string", "よい方向（higher: 高いほどよい、lower: 低いほどよい）",
           "Better when (higher, lower)"),
    Column("baseline", "number", "基準値", "Baseline"),
    Column("target", "number", "目標値", "Target"),
    Column("measured_on", "string", "測定日", "Measured on"),
    Column("value", "number", "検証済みの値（率は百分率）", "Verified value (a rate as a percentage)"),
    Column("numerator", "number", "率の分子（例：完了件数）", "A rate's numerator (e.g. completions)"),
    Column("denominator", "number", "率の分母（例：開始件数）", "A rate's denominator (e.g. attempts)"),
    Column("source", "string", "出典", "Source"),
)
PILOT_FIELDS = ("id", "challenge_id", "challenge__title", "owner__municipality_code", "company__name_ja",
                "company__name_en", "company__corporate_number", "status", "starts_on", "ends_on")
MEASUREMENT_FIELDS = ("kpi__pilot_id", "kpi__key", "kpi__name", "kpi__unit", "kpi__direction", "kpi__baseline",
                      "kpi__target", "measured_on", "value", "numerator", "denominator", "source")


async def pilot_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    """One row per verified KPI value of a public pilot (one row with no value when it has none yet)."""
    query = Pilot.filter(open_pilot_filter())
    if agency is not None:
        query = query.filter(owner_id=agency.id)
    async for chunk in _pages(query, PILOT_FIELDS):
        values = await Measurement.filter(open_measurement_filter(), kpi__pilot_id__in=[p["id"] for p in chunk]).order_by(
            "kpi__pilot_id", "kpi__position", "kpi_id", "measured_on", "id").values(*MEASUREMENT_FIELDS)
        rows: list[Row] = []
        for p in chunk:
            head = [p["id"], f"/pilots/{p['id']}", p["challenge_id"], text_of(p["challenge__title"], "ja"),
                    text_of(p["challenge__title"], "en"), p["owner__municipality_code"], p["company__name_ja"],
                    p["company__name_en"], p["company__corporate_number"], p["status"], p["starts_on"].isoformat(),
                    p["ends_on"].isoformat()]
            mine: list[dict[str, Any] | None] = [m for m in values if m["kpi__pilot_id"] == p["id"]]
            for m in mine or [None]:
                tail = [m["kpi__key"], text_of(decoded(m["kpi__name"]), "ja"), text_of(decoded(m["kpi__name"]), "en"),
                        m["kpi__unit"], m["kpi__direction"], m["kpi__baseline"], m["kpi__target"],
                        m["measured_on"].isoformat(), m["value"], m["numerator"], m["denominator"], m["source"]] \
                    if m else [None] * 12
                rows.append([*head, *tail])
        yield rows


async def pilot_states() -> States:
    """Per owner agency: the latest change of its public pilots or their verified values, and a count of both."""
    pilots = await Pilot.filter(open_pilot_filter()).annotate(modified=Max("updated_at"), rows=Count("id")).group_by(
        "owner_id").values("owner_id", "modified", "rows")
    public = await Pilot.filter(open_pilot_filter()).values_list("id", flat=True)  # pilots are few (hundreds)
    values = await Measurement.filter(open_measurement_filter(), kpi__pilot_id__in=list(public) or [0]).annotate(modified=Max("updated_at"), rows=Count("id")).group_by(
        "kpi__pilot__owner_id").values("kpi__pilot__owner_id", "modified", "rows")
    merged = {row["owner_id"]: dict(row) for row in pilots}
    for row in values:
        found = merged.get(row["kpi__pilot__owner_id"])
        if found is not None:
            found["modified"] = max(m for m in (found["modified"], row["modified"]) if m is not None)
            found["rows"] += row["rows"]
    return _with_total(list(merged.values()), "owner_id")
# --- published solutions (case studies) -------------------------------------------------------------

SOLUTION_COLUMNS = (
    Column("solution_id", "integer", "解決策ID", "Solution id"),
    Column("url", "string", "解決策ページのURL（パス）", "The solution's page (path)"),
    Column("title_ja", "string", "名称（日本語）", "Title in Japanese"),
    Column("title_en", "string", "名称（英語）", "Title in English"),
    Column("summary_ja", "string", "概要（日本語）", "Summary in Japanese"),
    Column("summary_en", "string", "概要（英語）", "Summary in English"),
    Column("challenge_id", "integer", "解決した課題のID", "The solved challenge's id"),
    Column("company_ja", "string", "企業名（日本語）", "Company name in Japanese"),
    Column("company_en", "string", "企業名（英語）", "Company name in English"),
    Column("corporate_number", "string", "法人番号", "Corporate number (法人番号)"),
    Column("municipality_codes", "string", "実証した団体の全国地方公共団体コード（;区切り）",
           "Local government codes of the agencies that ran the pilot (;-separated)"),
    Column("adopter_codes", "string", "導入（契約済み・稼働中）した団体のコード（;区切り）",
           "Codes of the agencies that adopted it (contracted or live; ;-separated)"),
    Column("adopted_count", "integer", "導入団体数（実証団体を除く）", "Adopting agencies (besides the pilot's)"),
    Column("cost_yen", "integer", "実証の費用（円）", "The pilot's cost (yen)"),
    Column("initial_cost_yen", "integer", "導入の初期費用（円）", "Initial cost of adopting it (yen)"),
    Column("yearly_cost_yen", "integer", "年間の運用費用（円）", "Yearly running cost (yen)"),
    Column("spec_shareable", "string", "仕様書を共有できるか（true/false）", "Whether the specification can be shared (true/false)"),
    Column("positive_share", "number", "住民アンケートの肯定的回答の割合（0〜1）", "Residents' positive answers (share, 0 to 1)"),
    Column("savings_yen", "integer", "共同調達で記録された削減額（円）", "Savings recorded by joint procurement (yen)"),
    Column("published_at", "datetime", "公開日時（日本時間）", "Published at (Japan time)"),
    Column("updated_at", "datetime", "最終更新日時（日本時間）", "Last updated at (Japan time)"),
)


async def solution_batches(agency: Organisation | None) -> AsyncIterator[list[Row]]:
    if agency is None:
        async for rows in solution_rows(BATCH):
            yield rows


async def solution_states() -> States:
    modified, rows = await solution_state()
    return {None: (modified, rows)} if rows else {}


REGISTRY: dict[str, DatasetKind] = {kind.name: kind for kind in (
    DatasetKind(
        "challenges",
        {"ja": "公開された課題", "en": "Published challenges"},
        {"ja": "Kyosoで公開された行政課題（公開後に中止されたものを含む）。",
         "en": "Challenges published on Kyoso (those cancelled after publication included)."},
        CHALLENGE_COLUMNS, challenge_batches, challenge_states,
    ),
    DatasetKind(
        "answers",
        {"ja": "公開された質問と回答", "en": "Published questions and answers"},
        {"ja": "課題への質問と、公開された回答。質問者は公開しません。",
         "en": "Questions on challenges and their published answers, without who asked."},
        ANSWER_COLUMNS, answer_batches, answer_states,
    ),
    DatasetKind(
        "results",
        {"ja": "選定結果", "en": "Results"},
        {"ja": "結果が確定した課題の、採択された提案の題名と企業、受け付けた提案の数。評価点は公開しません。",
         "en": "For decided challenges: the selected proposals' titles and companies, and how many proposals "
               "were received. Scores are never published."},
        RESULT_COLUMNS, result_batches, result_states,
    ),
    DatasetKind(
        "figures",
        {"ja": "プラットフォームの指標", "en": "Platform figures"},
        {"ja": "定期的に集計される指標（月別・分野別の課題数、課題ごとの提案数、決定までの日数の中央値など）。",
         "en": "Figures computed regularly (challenges per month and category, proposals per challenge, median "
               "days to a decision...)."},
        FIGURE_COLUMNS, figure_batches, figure_states,
    ),
    DatasetKind(
        "partners",
        {"ja": "デジタル人材パートナーの集計", "en": "Digital talent partners in figures"},
        {"ja": "登録・承認・配置されたパートナーの数と目標（1,000人）、募集から配置までの件数、スキル別・団体別の集計。"
               "個人の情報は含みません。",
         "en": "Partners registered, approved and placed against the goal of 1,000, needs from posting to placement, "
               "and counts per skill and per agency. No personal data."},
        PARTNER_COLUMNS, partner_batches, partner_states, per_agency=False,
    ),
    DatasetKind(
        "procurements",
        {"ja": "共同調達", "en": "Joint procurement"},
        {"ja": "契約が記録された共同調達：調達するもの、幹事団体と参加団体、契約額、単独調達と比べた削減額、契約先。"
               "各団体の数量と見込み額は公開しません。",
         "en": "Joint procurement rounds whose contract is recorded: what is bought, the lead and member agencies, "
               "the contract price, the saving against buying alone, the contractor. Each member's quantity and "
               "estimate are not published."},
        PROCUREMENT_COLUMNS, procurement_batches, procurement_states,
    ),
    DatasetKind(
        "pilots",
        {"ja": "実証とKPIの検証済みの値", "en": "Pilots and their verified KPI values"},
        {"ja": "公開された実証（計画中のものを除く）と、自治体が検証したKPIの値（測定日、値、率の分子と分母、出典）。"
               "未検証・差し戻しの値、評価、内部メモは含みません。",
         "en": "Public pilots (not those still planned) and the KPI values their agencies verified (date, value, a "
               "rate's two counts, source). Unverified or rejected values, reviews and internal notes are never "
               "included."},
        PILOT_COLUMNS, pilot_batches, pilot_states,
    ),
    DatasetKind(
        "solutions",
        {"ja": "解決策（導入事例）", "en": "Solutions (case studies)"},
        {"ja": "採用された実証から生まれ、公開された解決策：実証の結果、費用、仕様書の共有可否、導入した団体、"
               "共同調達による削減額。下書きと審査中のものは含みません。",
         "en": "Published solutions born from adopted pilots: measured results, costs, whether the specification "
               "can be shared, the agencies that adopted them, savings from joint procurement. Drafts and "
               "solutions in review are not included."},
        SOLUTION_COLUMNS, solution_batches, solution_states, per_agency=False,
    ),
)}

