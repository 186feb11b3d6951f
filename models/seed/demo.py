"""Reference data every installation needs, and the demo data `kyoso seed-demo` adds. Both idempotent.

The demo's people and first three challenges are here; the rest of its world (models.seed.world) is added once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeKpi, ChallengeStatus, Criterion
from models.core import outbox
from models.identity.accounts import Role, User
from models.identity.orgs import Category, Organisation, OrgKind, OrgStatus
from models.identity.people import create_person, operator_organisation
from models.insights.figures import compute_snapshots
from models.insights.values import JST
from models.seed.data import CATEGORIES, MUNICIPALITIES, TOKYO
from models.seed.solutions import seed_solutions
from models.seed.world import seed_world

DEMO_PASSWORD = "kyoso-demo-2026"


async def seed_reference_data() -> None:
    """Tokyo, its 62 municipalities, the operator's organisation and the categories."""
    async with in_transaction():
        agencies = [TOKYO, *[tuple(m) for m in MUNICIPALITIES]]
        for code, name_ja, name_en, kind in agencies:
            await Organisation.update_or_create(
                municipality_code=code,
                defaults={
                    "kind": OrgKind.AGENCY.value,
                    "status": OrgStatus.APPROVED.value,
                    "name_ja": name_ja,
                    "name_en": name_en,
                    "municipality_type": kind,
                },
            )
        for position, (slug, name_ja, name_en) in enumerate(CATEGORIES):
            await Category.get_or_create(slug=slug, defaults={"name_ja": name_ja, "name_en": name_en, "position": position})
        await operator_organisation()


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str


DEMO_COMPANIES = (
    # corporate number (valid check digit), name ja, name en
    ("1010001000006", "株式会社まちテック", "MachiTech Inc."),
    ("2010001000005", "合同会社ひだまりラボ", "Hidamari Lab LLC"),
)

DEMO_PEOPLE = (
    # email, name, organisation code (None: operator), role, reviewer, operator, what they are
    ("operator@demo.kyoso.jp", "運営 花子", None, Role.ADMIN, False, True, "platform operator"),
    ("tokyo@demo.kyoso.jp", "東京 太郎", "130001", Role.ADMIN, False, False, "agency admin, Tokyo Metropolitan Government"),
    ("shibuya@demo.kyoso.jp", "渋谷 次郎", "131130", Role.MEMBER, True, False, "agency member and reviewer, Shibuya City"),
    ("machitech@demo.kyoso.jp", "町田 三郎", "1010001000006", Role.ADMIN, False, False, "company admin, MachiTech Inc."),
    ("hidamari@demo.kyoso.jp", "日向 四季", "2010001000005", Role.ADMIN, False, False, "company admin, Hidamari Lab LLC"),
    ("reviewer@demo.kyoso.jp", "Alex Reviewer", None, Role.MEMBER, True, False, "external expert reviewer"),
)


def _levels(ja: str, en: str) -> list[dict[str, str]]:
    words = (("不十分", "poor"), ("やや不十分", "weak"), ("標準", "adequate"), ("良い", "good"), ("優れている", "excellent"))
    return [{"ja": f"{ja}: {w_ja}", "en": f"{en}: {w_en}"} for w_ja, w_en in words]


def _demo_challenges(now: datetime) -> list[dict]:
    return [
        {
            "owner": "130001",
            "category": "childcare",
            "title": {"ja": "子育て支援申請を10分で完了できるようにしたい", "en": "Childcare support applications completed within 10 minutes"},
            "summary": {
                "ja": "オンライン申請の途中離脱が多く、10分以内に完了できる住民は7%にとどまっています。",
                "en": "Many residents abandon the online application; only 7% finish within 10 minutes.",
            },
            "situation": {"ja": "申請フォームは12画面あり、添付書類の準備に時間がかかります。", "en": "The form has 12 screens and supporting documents take long to prepare."},
            "problem": {"ja": "入力項目が多く、スマートフォンでの操作が難しい。", "en": "Too many fields, and hard to use on a smartphone."},
            "outcome": {"ja": "10分以内の完了率を60%以上にする。", "en": "At least 60% of residents complete it within 10 minutes."},
            "tags": ["UX", "mobile", "申請"],
            "languages": ["ja", "en"],
            "budget": (5_000_000, 20_000_000),
            "kpi": ({"ja": "10分以内の完了率", "en": "Completion within 10 minutes"}, "%", 7, 60),
        },
        {
            "owner": "131130",
            "category": "disaster-prevention",
            "title": {"ja": "避難所の混雑状況をリアルタイムで住民に伝えたい", "en": "Real-time shelter crowding information for residents"},
            "summary": {"ja": "災害時に避難所の空き状況が分からず、特定の避難所に人が集中します。", "en": "In a disaster, residents cannot see which shelters have room, so a few get overcrowded."},
            "situation": {"ja": "職員が電話で集計しています。", "en": "Staff collect counts by telephone."},
            "problem": {"ja": "情報の更新が遅く、住民に届きません。", "en": "Updates are slow and do not reach residents."},
            "outcome": {"ja": "避難所の混雑度を5分以内に公開する。", "en": "Publish each shelter's crowding within 5 minutes."},
            "tags": ["防災", "IoT", "open data"],
            "languages": ["ja", "en"],
            "budget": (3_000_000, 10_000_000),
            "kpi": ({"ja": "情報更新までの時間", "en": "Time to update"}, "min", 60, 5),
        },
        {
            "owner": "132012",
            "category": "internal-operations",
            "title": {"ja": "議事録作成の負担を減らしたい", "en": "Less effort to write meeting minutes"},
            "summary": {"ja": "会議の議事録作成に職員の時間が多く使われています。", "en": "Staff spend many hours writing meeting minutes."},
            "situation": {"ja": "録音を聞き直して手作業で作成しています。", "en": "Staff replay recordings and type the minutes by hand."},
            "problem": {"ja": "1時間の会議に4時間かかります。", "en": "One hour of meeting takes four hours to write up."},
            "outcome": {"ja": "作成時間を半分以下にする。", "en": "Halve the time it takes."},
            "tags": ["AI", "音声認識"],
            "languages": ["ja"],
            "budget": (1_000_000, 5_000_000),
            "kpi": ({"ja": "会議1時間あたりの作成時間", "en": "Hours per meeting hour"}, "h", 4, 2),
        },
    ]


async def seed_demo() -> list[DemoLogin]:
    await seed_reference_data()
    for number, name_ja, name_en in DEMO_COMPANIES:
        await Organisation.get_or_create(
            corporate_number=number,
            defaults={
                "kind": OrgKind.COMPANY.value,
                "status": OrgStatus.APPROVED.value,
                "name_ja": name_ja,
                "name_en": name_en,
                "approved_at": timezone.now(),
            },
        )
    logins = []
    for email, name, code, role, reviewer, operator, what in DEMO_PEOPLE:
        if not await User.exists(email=email):
            org = None
            if code:
                org = await Organisation.get(municipality_code=code) if len(code) == 6 else await Organisation.get(corporate_number=code)
            await create_person(
                email=email, name=name, password=DEMO_PASSWORD, organisation=org, role=role, reviewer=reviewer, operator=operator
            )
        logins.append(DemoLogin(email=email, role=what))
    now = timezone.now()
    existing_titles = {c.title.get("ja") for c in await Challenge.all().only("id", "title")}
    for spec in _demo_challenges(now):
        if spec["title"]["ja"] in existing_titles:
            continue
        owner = await Organisation.get(municipality_code=spec["owner"])
        await _create_demo_challenge(spec, owner, now)
    people = {user.email.split("@")[0]: user for user in await User.filter(email__in=[p[0] for p in DEMO_PEOPLE])}
    companies = [await Organisation.get(corporate_number=number) for number, *_ in DEMO_COMPANIES]
    world = await seed_world(now, people, companies)
    if await seed_solutions(now) or world:
        await compute_snapshots(now)  # the home page's and insights' figures, at once (the job refreshes them)
    return logins


async def _create_demo_challenge(spec: dict, owner: Organisation, now: datetime) -> None:
    five_pm = now.astimezone(JST).replace(hour=17, minute=0, second=0, microsecond=0)  # deadlines at 17:00 JST
    async with in_transaction():
        challenge = await Challenge.create(
            owner=owner,
            category=await Category.get(slug=spec["category"]),
            status=ChallengeStatus.PUBLISHED.value,
            title=spec["title"],
            summary=spec["summary"],
            situation=spec["situation"],
            problem=spec["problem"],
            outcome=spec["outcome"],
            tags=spec["tags"],
            languages=spec["languages"],
            budget_min_yen=spec["budget"][0],
            budget_max_yen=spec["budget"][1],
            pilot_months=6,
            questions_deadline=five_pm + timedelta(days=14),
            proposals_deadline=five_pm + timedelta(days=30),
            review_deadline=five_pm + timedelta(days=45),
            published_at=now,
        )
        criteria = (
            ({"ja": "課題への適合性", "en": "Fit to the problem"}, 40),
            ({"ja": "実現可能性", "en": "Feasibility"}, 35),
            ({"ja": "費用対効果", "en": "Value for money"}, 25),
        )
        for position, (name, weight) in enumerate(criteria):
            await Criterion.create(
                challenge=challenge, position=position, name=name, weight=weight, levels=_levels(name["ja"], name["en"])
            )
        kpi_name, unit, baseline, target = spec["kpi"]
        await ChallengeKpi.create(challenge=challenge, name=kpi_name, unit=unit, baseline=baseline, target=target)
        await outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})
