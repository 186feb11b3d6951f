"""The demo's world beyond the first three challenges: about thirty challenges across Tokyo and a dozen
municipalities in every state, questions and answers, proposals, a finished review with a ranking, a review
still running, pilots with verified measurements and residents' feedback, and digital talent partners.

Written as rows (one transaction, no jobs), because the demo must be quick to make; the states are the ones
the lifecycles reach. Made once: when its first challenge exists, nothing is added again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeKpi, ChallengeStatus, Criterion, Question
from models.core import outbox
from models.core.audit import AuditEvent
from models.core.identifiers import corporate_number_check_digit
from models.identity.accounts import User
from models.identity.orgs import Category, Organisation, OrgKind, OrgStatus
from models.insights.values import JST
from models.partners.models import PartnerProfile, PartnerSkill, PartnerStatus
from models.partners.profiles import CONSENT_VERSION
from models.pilots.models import Feedback, Measurement, MeasurementStatus, Milestone, Pilot, PilotKpi, PilotStatus
from models.proposals.lifecycle import digest, reference_for, working_content
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion
from models.review.models import Assignment, AssignmentStatus, PanelMember, Review, ReviewStatus
from models.review.scoring import review_total

S = ChallengeStatus
P = ProposalStatus

# Base digits of the extra companies' corporate numbers (the check digit is computed), names ja / en.
EXTRA_COMPANIES = (
    ("010001000101", "株式会社シビックデザイン", "Civic Design Co., Ltd."),
    ("010001000202", "みらい防災株式会社", "Mirai Bosai Inc."),
    ("010001000303", "株式会社グリーンループ", "Green Loop K.K."),
    ("010001000404", "ことば翻訳合同会社", "Kotoba Translation LLC"),
)

# owner's municipality code, category, state, title (ja, en), summary (ja, en), KPI (ja, en, unit, baseline, target)
CHALLENGES: tuple[tuple[Any, ...], ...] = (
    ("130001", "tourism", S.PUBLISHED, ("訪日客向けの多言語案内を充実させたい", "Better multilingual guidance for visitors"),
     ("観光案内所の問い合わせの3割が外国語で、対応できる職員が足りません。", "A third of questions at tourist information centres are in foreign languages; too few staff can answer."),
     ("多言語で自己解決できた割合", "Questions resolved in their own language", "%", 20, 70)),
    ("131016", "administrative-procedures", S.PUBLISHED, ("窓口の待ち時間を見える化したい", "Show the waiting time at the counter"),
     ("繁忙期の住民票の窓口で、最長2時間の待ち時間が発生しています。", "In busy months residents wait up to two hours at the certificate counter."),
     ("平均待ち時間", "Average wait", "分", 45, 15)),
    ("131032", "elderly-care", S.PUBLISHED, ("一人暮らしの高齢者の見守りを負担なく続けたい", "Keep watching over elderly people living alone, without the burden"),
     ("民生委員の訪問だけでは、異変に気づくまで数日かかることがあります。", "Volunteer visits alone can take days to notice that something is wrong."),
     ("異変に気づくまでの時間", "Time to notice a problem", "時間", 72, 12)),
    ("131083", "environment", S.PUBLISHED, ("粗大ごみの申し込みを24時間できるようにしたい", "Book bulky-waste collection around the clock"),
     ("電話受付は平日昼間のみで、つながりにくいという声が多く寄せられています。", "Bookings are by telephone on weekdays only, and lines are often busy."),
     ("オンライン申込の割合", "Share of online bookings", "%", 10, 60)),
    ("131121", "childcare", S.PUBLISHED, ("保育園の空き状況をリアルタイムで知らせたい", "Real-time nursery vacancies for parents"),
     ("空き状況は月1回の更新で、保護者が何度も窓口に問い合わせています。", "Vacancies are updated monthly, so parents keep calling the office."),
     ("空き状況の問い合わせ件数", "Vacancy enquiries per month", "件", 900, 300)),
    ("131164", "education", S.PUBLISHED, ("不登校の子どもが学べるオンラインの居場所をつくりたい", "An online place to learn for children not attending school"),
     ("不登校の児童生徒が増え、学びの機会が途切れています。", "More children are not attending school and lose touch with learning."),
     ("週1回以上参加する子どもの数", "Children taking part weekly", "人", 0, 80)),
    ("132047", "mobility", S.PUBLISHED, ("駅から遠い地域の移動手段を確保したい", "Transport for neighbourhoods far from a station"),
     ("路線バスの減便で、通院や買い物に困る高齢者が増えています。", "Fewer buses leave older residents struggling to reach clinics and shops."),
     ("月間の利用回数", "Trips per month", "回", 0, 1500)),
    ("132098", "health", S.PUBLISHED, ("特定健診の受診率を上げたい", "More residents taking their health check"),
     ("特定健診の受診率が4割にとどまっています。", "Only 40% of residents take their annual health check."),
     ("受診率", "Check-up rate", "%", 40, 60)),
    ("131059", "internal-operations", S.PUBLISHED, ("紙の決裁を電子化したい", "Replace paper approvals"),
     ("年間3万件の決裁が紙で回付され、保管にも場所を取っています。", "30,000 approvals a year circulate on paper and fill the archives."),
     ("電子決裁の割合", "Share of electronic approvals", "%", 5, 90)),
    ("130001", "disaster-prevention", S.PUBLISHED, ("帰宅困難者に一時滞在施設の情報を届けたい", "Tell stranded commuters where to shelter"),
     ("大地震の際、都内で数百万人が帰宅困難になると想定されています。", "A major earthquake could leave millions of commuters stranded in Tokyo."),
     ("情報が届くまでの時間", "Time for the information to reach people", "分", 60, 10)),
    ("133051", "elderly-care", S.PUBLISHED, ("移動販売で買い物の不便を解消したい", "Mobile shops for residents far from stores"),
     ("町内の食料品店が減り、車を持たない高齢者が買い物に困っています。", "Grocery shops have closed and older residents without a car struggle to shop."),
     ("買い物に困っている世帯の割合", "Households struggling to shop", "%", 18, 8)),
    ("133078", "health", S.PUBLISHED, ("遠隔診療で通院の負担を減らしたい", "Remote consultations instead of long trips to the clinic"),
     ("村に診療所が1つしかなく、専門医の受診に片道2時間かかります。", "The village has one clinic; a specialist is two hours away."),
     ("遠隔で受けた診療の件数", "Remote consultations per month", "件", 0, 40)),
    ("131067", "tourism", S.PUBLISHED, ("観光客のごみのポイ捨てを減らしたい", "Less litter from visitors"),
     ("浅草周辺でごみのポイ捨てが増え、清掃費がかさんでいます。", "Litter around Asakusa is growing, and so is the cost of cleaning."),
     ("清掃で回収するごみの量", "Litter collected", "kg/日", 300, 150)),
    ("130001", "childcare", S.CLOSED, ("児童手当の現況確認をなくしたい", "No more yearly child-allowance status checks"),
     ("毎年の書類提出が保護者と職員の負担になっています。", "The yearly paperwork burdens parents and staff."),
     ("書類提出が必要な世帯の割合", "Households that must send papers", "%", 100, 10)),
    ("132012", "tourism", S.CLOSED, ("高尾山の混雑を分散させたい", "Spread the crowds on Mount Takao"),
     ("秋の週末に登山口が大混雑し、地域の交通にも影響が出ています。", "Autumn weekends overcrowd the trailheads and jam local roads."),
     ("ピーク時の来訪者の割合", "Visitors at peak hours", "%", 45, 30)),
    ("131130", "disaster-prevention", S.DECIDED, ("災害時の安否確認を速くしたい", "Faster safety checks in a disaster"),
     ("要配慮者の安否確認に、電話で丸一日かかっています。", "Checking on vulnerable residents by telephone takes a whole day."),
     ("安否確認が終わるまでの時間", "Time to complete safety checks", "時間", 24, 3)),
    ("132039", "environment", S.DECIDED, ("公園の落ち葉を資源として活用したい", "Use park leaves as a resource"),
     ("落ち葉の処分に年間800万円かかっています。", "Disposing of fallen leaves costs 8 million yen a year."),
     ("資源化された落ち葉の割合", "Leaves recycled", "%", 0, 50)),
    ("131148", "administrative-procedures", S.DECIDED, ("引っ越しの手続きを一度で済ませたい", "Moving house in one visit"),
     ("転入時に平均5つの窓口を回る必要があります。", "A new resident visits five counters on average."),
     ("訪問する窓口の数", "Counters visited", "か所", 5, 1)),
    ("131105", "internal-operations", S.DECIDED, ("問い合わせ対応をチャットで自動化したい", "Answer common questions by chat"),
     ("電話の問い合わせの6割が同じ質問の繰り返しです。", "60% of calls repeat the same questions."),
     ("電話の件数", "Calls per month", "件", 5000, 3000)),
    ("131199", "education", S.DRAFT, ("図書館の蔵書をもっと使ってもらいたい", "More use of the library's collection"),
     ("貸出数が10年で3割減っています。", "Loans fell by 30% in ten years."), None),
    ("130001", "mobility", S.DRAFT, ("シェアサイクルの再配置を効率化したい", "Rebalance shared bicycles efficiently"),
     ("朝夕に自転車が特定のポートに偏ります。", "Bicycles pile up at a few docks each morning and evening."), None),
    ("131130", "tourism", S.DRAFT, ("深夜の繁華街の騒音を減らしたい", "Less late-night noise downtown"),
     ("深夜の騒音への苦情が年々増えています。", "Complaints about late-night noise grow every year."), None),
    ("132063", "health", S.IN_REVIEW, ("救急車の適正利用を進めたい", "Appropriate use of ambulances"),
     ("救急出動の半数が軽症です。", "Half of ambulance calls turn out to be minor."),
     ("軽症の割合", "Share of minor cases", "%", 50, 35)),
    ("131229", "childcare", S.IN_REVIEW, ("ひとり親家庭の支援情報を届けたい", "Reach single-parent families with support"),
     ("使える支援制度を知らない世帯が多くあります。", "Many families do not know the support they could get."),
     ("支援制度の利用率", "Take-up of support", "%", 30, 60)),
    ("131202", "environment", S.CHANGES_REQUESTED, ("食品ロスを減らしたい", "Less food waste"),
     ("家庭から出る可燃ごみの4割が食品です。", "Food is 40% of household burnable waste."),
     ("食品ロスの量", "Food waste", "t", 1200, 900)),
    ("132080", "education", S.SCHEDULED, ("部活動の地域移行を支えたい", "Move school clubs into the community"),
     ("教員の長時間労働の一因となっています。", "Clubs add to teachers' long hours."),
     ("地域で指導する部活動の数", "Clubs coached by the community", "件", 0, 20)),
    ("131237", "disaster-prevention", S.CANCELLED, ("河川の水位を住民に知らせたい", "River levels for residents"),
     ("国の情報提供で目的が満たされたため取り下げました。", "Withdrawn: the national river information now covers the need."), None),
)

QUESTIONS = (  # (the challenge's Japanese title, question, answer or "" while unanswered)
    ("訪日客向けの多言語案内を充実させたい", "既存の案内所の端末は利用できますか。", "はい。各案内所にタブレット端末が2台あります。"),
    ("帰宅困難者に一時滞在施設の情報を届けたい", "一時滞在施設の空き状況は、施設側でどのように把握していますか。", ""),
    ("帰宅困難者に一時滞在施設の情報を届けたい", "多言語での案内も提案の範囲に含みますか。", ""),
    ("避難所の混雑状況をリアルタイムで住民に伝えたい", "避難所にWi-Fiはありますか。", ""),
    ("一人暮らしの高齢者の見守りを負担なく続けたい", "見守り対象者の同意の取り方に決まりはありますか。", "区の個人情報保護条例に沿って、書面で同意を得ています。"),
    ("保育園の空き状況をリアルタイムで知らせたい", "保育園側の入力負担はどの程度まで許容されますか。", "1日1回、5分以内を想定しています。"),
)

PARTNERS = (  # name, profile ja, tags, skills
    ("佐藤 美咲", "自治体のDX推進を8年支援。窓口業務の改善が得意です。", ["窓口", "BPR"], ["business-process", "service-design"]),
    ("Daniel Okafor", "Product manager for public services; twelve years of user research.", ["UX", "research"],
     ["user-research", "project-management"]),
    ("鈴木 健", "調達仕様書の作成と評価の経験が豊富です。", ["調達"], ["procurement", "project-management"]),
    ("高橋 由紀", "UIデザイナー。行政サービスのアクセシビリティ改善に取り組んでいます。", ["アクセシビリティ"], ["ui-design", "service-design"]),
    ("伊藤 大輔", "庁内の業務改革と職員研修を担当してきました。", ["研修"], ["change-management", "business-process"]),
    ("Mei Lin", "DX strategist; led two prefectures' digital plans.", ["strategy"], ["dx-strategy", "change-management"]),
)

REVIEW_TEXT = {
    "strengths": "実証の計画が具体的で、他自治体での実績もあります。",
    "weaknesses": "運用費の見積もりに幅があります。",
    "feedback": "運用段階の費用を段階的に示すと、比較しやすくなります。",
}


def _corporate_number(base: str) -> str:
    return f"{corporate_number_check_digit(base)}{base}"


def _levels(ja: str, en: str) -> list[dict[str, str]]:
    words = (("不十分", "poor"), ("やや不十分", "weak"), ("標準", "adequate"), ("良い", "good"), ("優れている", "excellent"))
    return [{"ja": f"{ja}: {w_ja}", "en": f"{en}: {w_en}"} for w_ja, w_en in words]


CRITERIA = (({"ja": "課題への適合性", "en": "Fit to the problem"}, 40), ({"ja": "実現可能性", "en": "Feasibility"}, 35),
            ({"ja": "費用対効果", "en": "Value for money"}, 25))


def _dates(status: str, index: int, moment: datetime) -> dict[str, Any]:
    """Deadlines and moments that fit the state (open challenges close at different times), at 17:00 Japan time."""
    day = timedelta(days=1)
    now = moment.astimezone(JST).replace(hour=17, minute=0, second=0, microsecond=0)
    if status == S.PUBLISHED:
        published = now - (5 + index * 3) * day
        return {"published_at": published, "questions_deadline": now + (2 + index) * day,
                "proposals_deadline": now + (4 + index * 4) * day, "review_deadline": now + (20 + index * 4) * day}
    if status == S.CLOSED:
        return {"published_at": now - (50 + index) * day, "questions_deadline": now - 20 * day,
                "proposals_deadline": now - (3 + index) * day, "review_deadline": now + (10 + index) * day}
    if status in (S.DECIDED, S.CANCELLED):
        published = now - (150 + index * 10) * day
        return {"published_at": published if status == S.DECIDED else None, "questions_deadline": published + 14 * day,
                "proposals_deadline": published + 30 * day, "review_deadline": published + 50 * day}
    if status == S.SCHEDULED:  # a week ahead: later than the suite's checks that publish what is due in 2-3 days
        return {"publish_at": now + 7 * day, "questions_deadline": now + 17 * day, "proposals_deadline": now + 33 * day,
                "review_deadline": now + 50 * day}
    return {"questions_deadline": now + 30 * day, "proposals_deadline": now + 45 * day, "review_deadline": now + 60 * day}


async def _challenge(spec: tuple[Any, ...], index: int, now: datetime, connection: Any) -> Challenge:
    code, slug, status, title, summary, kpi = spec
    owner = await Organisation.get(municipality_code=code, using_db=connection)
    category = await Category.get(slug=slug, using_db=connection)
    challenge = await Challenge.create(
        owner=owner, category=category, status=status.value,
        title={"ja": title[0], "en": title[1]}, summary={"ja": summary[0], "en": summary[1]},
        situation={"ja": "いまは職員が電話や紙で対応しており、担当者によって進め方も異なります。",
                   "en": "Staff handle it by telephone and on paper today, each in their own way."},
        problem={"ja": "現在のやり方では職員の負担が大きく、住民にも不便です。",
                 "en": "The current way is a burden on staff and inconvenient for residents."},
        outcome={"ja": f"{title[0]}。効果を数値で確かめられる形で。", "en": f"{title[1]}, measurably."},
        tags=[category.name_ja], languages=["ja", "en"], budget_min_yen=2_000_000 + index * 500_000,
        budget_max_yen=8_000_000 + index * 1_000_000, pilot_months=6,
        status_message="公開前に、予算の上限の根拠を書き加えてください。" if status == S.CHANGES_REQUESTED else
        ("国の情報提供で目的が満たされたため。" if status == S.CANCELLED else ""),
        using_db=connection, **_dates(status, index, now),
    )
    for position, (name, weight) in enumerate(CRITERIA):
        await Criterion.create(challenge=challenge, position=position, name=name, weight=weight,
                               levels=_levels(name["ja"], name["en"]), using_db=connection)
    if kpi:
        await ChallengeKpi.create(challenge=challenge, name={"ja": kpi[0], "en": kpi[1]}, unit=kpi[2], baseline=kpi[3],
                                  target=kpi[4], using_db=connection)
    return challenge


async def _proposal(challenge: Challenge, company: Organisation, status: ProposalStatus, author: User | None,
                    title: str, now: datetime, connection: Any) -> Proposal:
    proposal = await Proposal.create(
        challenge=challenge, company=company, created_by=author, status=P.DRAFT.value, title=title,
        summary=f"{title}。既存の仕組みと連携し、3か月で導入します。", approach="現状調査、試行、評価の3段階で進めます。",
        cost_yen=4_800_000, schedule="1か月目: 調査と設計、2か月目: 試行、3か月目: 評価", team="PM 1名、エンジニア 2名、デザイナー 1名",
        track_record="他の自治体で2件の導入実績があります。", using_db=connection)
    if status != P.DRAFT:
        submitted = (challenge.proposals_deadline or now) - timedelta(days=2)
        content = {"proposal_id": proposal.id, "challenge_id": challenge.id, "company_id": company.id, "version": 1,
                   "submitted_at": submitted.isoformat(), **working_content(proposal)}
        proposal.status, proposal.version, proposal.submitted_at = status.value, 1, submitted
        proposal.reference = reference_for(proposal, 1)
        proposal.status_reason = "評価の結果による" if status in (P.SELECTED, P.NOT_SELECTED) else ""
        await proposal.save(using_db=connection)
        await ProposalVersion.create(proposal=proposal, version=1, content=content, sha256=digest(content),
                                     submitted_by=author, using_db=connection)
    return proposal


async def _review(assignment: Assignment, criteria: list[Criterion], scores: tuple[int, ...], now: datetime,
                  connection: Any) -> None:
    marks = {str(c.id): score for c, score in zip(criteria, scores, strict=True)}
    total = review_total(marks, {str(c.id): c.weight for c in criteria})
    await Review.create(assignment=assignment, scores=marks, comments={key: "計画は妥当です。" for key in marks},
                        confidence=4, no_conflict=True, status=ReviewStatus.SUBMITTED.value, total=total,
                        submitted_at=now, using_db=connection, **REVIEW_TEXT)
    assignment.status = AssignmentStatus.SUBMITTED.value
    await assignment.save(using_db=connection)


async def _pilot(challenge: Challenge, proposal: Proposal, status: PilotStatus, code: str, today: date,
                 connection: Any) -> Pilot:
    running = status == PilotStatus.RUNNING
    starts = today - timedelta(days=100 if running else 300)
    pilot = await Pilot.create(
        challenge=challenge, proposal=proposal, company_id=proposal.company_id, owner_id=challenge.owner_id,
        agency_ids=[challenge.owner_id], status=status.value, starts_on=starts,
        ends_on=starts + timedelta(days=180), short_code=code, using_db=connection,
        started_at=datetime.combine(starts, datetime.min.time()).astimezone(),
        status_reason="" if running else "目標を達成したため本格導入します。")
    kpi = await PilotKpi.create(pilot=pilot, key="time", name={"ja": "完了までの時間", "en": "Time to complete"}, unit="時間",
                                baseline=24, target=3, direction="lower", using_db=connection)
    values = (20, 14, 9, 6, 4) if running else (18, 10, 5, 3, 2.5)
    for month, value in enumerate(values):
        last = running and month == len(values) - 1  # the newest value waits for the owner's check
        await Measurement.create(kpi=kpi, value=value, measured_on=starts + timedelta(days=20 * (month + 1)),
                                 source="職員の記録", status=MeasurementStatus.RECORDED.value if last else
                                 MeasurementStatus.VERIFIED.value, using_db=connection)
    for title, offset, done in (("要件定義", 20, True), ("試行開始", 45, True), ("中間評価", 120, not running)):
        await Milestone.create(pilot=pilot, title=title, due_on=starts + timedelta(days=offset),
                               status="accepted" if done else "planned", using_db=connection)
    comments = ("連絡がすぐに来て安心しました。", "操作が簡単でした。", "", "もう少し文字を大きくしてほしい。", "家族にも勧めたいです。")
    for n, comment in enumerate(comments):
        await Feedback.create(pilot=pilot, satisfaction=5 - n % 3, comment=comment, published=bool(comment),
                              using_db=connection)
    return pilot


async def seed_world(now: datetime, people: dict[str, User], companies: list[Organisation]) -> bool:
    """Add the demo's world once; False when it was already there."""
    titles = await Challenge.all().values_list("title", flat=True)
    if any(isinstance(title, dict) and title.get("ja") == CHALLENGES[0][3][0] for title in titles):
        return False
    today = now.date()
    async with in_transaction() as connection:
        for base, name_ja, name_en in EXTRA_COMPANIES:
            org, _ = await Organisation.get_or_create(
                corporate_number=_corporate_number(base), using_db=connection,
                defaults={"kind": OrgKind.COMPANY.value, "status": OrgStatus.APPROVED.value, "name_ja": name_ja,
                          "name_en": name_en, "approved_at": now})
            companies.append(org)
        await Organisation.get_or_create(
            corporate_number=_corporate_number("010001000505"), using_db=connection,
            defaults={"kind": OrgKind.COMPANY.value, "status": OrgStatus.PENDING.value,
                      "name_ja": "株式会社はじまり", "name_en": "Hajimari Inc."})  # waits for the operator
        machitech, hidamari, *others = companies
        made: list[Challenge] = []
        for index, spec in enumerate(CHALLENGES):
            made.append(await _challenge(spec, index, now, connection))
        published = [c for c in made if c.status == S.PUBLISHED]
        by_title = {c.title.get("ja"): c for c in await Challenge.filter(status=S.PUBLISHED.value).using_db(connection)}
        for n, (title, question, answer) in enumerate(QUESTIONS):
            asker = (machitech, people["machitech"]) if n % 2 == 0 else (hidamari, people["hidamari"])
            await Question.create(challenge=by_title[title], asker=asker[1], asker_organisation=asker[0], body=question,
                                  answer=answer, answered_at=now - timedelta(days=1) if answer else None,
                                  using_db=connection)
        for n, challenge in enumerate(published[:6]):
            await _proposal(challenge, others[n % len(others)], P.SUBMITTED, None, f"{challenge.title['ja']}のための提案",
                            now, connection)
        await _proposal(published[1], machitech, P.DRAFT, people["machitech"], "待ち時間表示サービス", now, connection)
        # A closed challenge of Tokyo's under review: the external reviewer has one review left to write.
        closed = next(c for c in made if c.status == S.CLOSED)
        criteria = await Criterion.filter(challenge_id=closed.id).using_db(connection).order_by("position")
        await PanelMember.create(challenge=closed, reviewer=people["reviewer"], using_db=connection)
        due = now + timedelta(days=5)
        for company, scores in ((machitech, (4, 4, 3)), (hidamari, None), (others[0], (3, 2, 4))):
            proposal = await _proposal(closed, company, P.UNDER_REVIEW, None, f"{company.name_ja}の提案", now, connection)
            assignment = await Assignment.create(proposal=proposal, reviewer=people["reviewer"], due_at=due,
                                                 using_db=connection)
            if scores:
                await _review(assignment, criteria, scores, now - timedelta(days=1), connection)
        # Decided challenges: reviews in, one proposal selected, the others told; two went on to pilots.
        pilots = 0
        for challenge in (c for c in made if c.status == S.DECIDED):
            criteria = await Criterion.filter(challenge_id=challenge.id).using_db(connection).order_by("position")
            await PanelMember.create(challenge=challenge, reviewer=people["reviewer"], using_db=connection)
            chosen = await _proposal(challenge, machitech, P.SELECTED, people["machitech"],
                                     f"{challenge.title['ja']}を実現するサービス", now, connection)
            passed = await _proposal(challenge, hidamari, P.NOT_SELECTED, people["hidamari"],
                                     f"{challenge.title['ja']}の試行案", now, connection)
            moment = challenge.review_deadline or now
            for proposal, scores in ((chosen, (5, 4, 4)), (passed, (3, 3, 2))):
                assignment = await Assignment.create(proposal=proposal, reviewer=people["reviewer"], using_db=connection,
                                                     due_at=moment)
                await _review(assignment, criteria, scores, moment, connection)
            await AuditEvent.create(action="challenge.decided", target_type="challenge", target_id=str(challenge.id),
                                    after={"status": S.DECIDED.value}, using_db=connection)
            if pilots < 2:
                await _pilot(challenge, chosen, PilotStatus.RUNNING if pilots == 0 else PilotStatus.ADOPTED,
                             f"demo{pilots + 1}", today, connection)
                pilots += 1
        for name, profile, tags, skills in PARTNERS:
            partner = await PartnerProfile.create(
                name=name, profile={"ja": profile, "en": profile}, tags=tags, status=PartnerStatus.APPROVED.value,
                years_experience=8, public_sector_years=3, languages=["ja", "en"], days_per_month=4, available=True,
                public_profile=True, public_fields=["name", "profile", "skills"], consent_version=CONSENT_VERSION,
                consented_at=now, approved_at=now, search_text=" ".join([name, profile, *tags, *skills]),
                using_db=connection)
            for skill in skills:
                await PartnerSkill.create(partner=partner, skill=skill, experience=profile, using_db=connection)
        for challenge in made:
            await outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id},
                                 using_db=connection)
    return True
