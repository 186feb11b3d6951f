from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from models.core.audit import AuditEvent
from models.identity.accounts import Role, User
from models.identity.orgs import Organisation
from tests.helpers import _at, _draft
from tests.web import post_form, sign_in_as


async def _pending_company(number: str = "5010001000002") -> Organisation:
    return await Organisation.create(kind="company", status="pending", corporate_number=number, name_ja="審査中株式会社", name_en="Pending KK")


async def test_an_operator_approves_a_pending_company(client, people):
    company = await _pending_company()
    operator = await people.make(operator=True)
    await sign_in_as(client, operator)
    console = await client.get("/admin")
    assert "審査中株式会社" in console.text
    response = await post_form(client, f"/admin/organisations/{company.id}/approve")
    assert response.status_code == 303
    await company.refresh_from_db()
    assert company.status == "approved"
    event = await AuditEvent.get(action="organisation.approved", target_id=str(company.id))
    assert event.actor_id == operator.id and event.before == {"status": "pending"}
    again = await post_form(client, f"/admin/organisations/{company.id}/approve")
    assert again.status_code == 409


async def test_an_operator_rejects_with_a_reason(client, people):
    company = await _pending_company("6010001000001")
    await sign_in_as(client, await people.make(operator=True))
    await post_form(client, f"/admin/organisations/{company.id}/reject", {"reason": "番号が一致しません"})
    await company.refresh_from_db()
    assert company.status == "rejected"
    assert (await AuditEvent.get(action="organisation.rejected", target_id=str(company.id))).after["reason"] == "番号が一致しません"


async def test_an_operator_deactivates_a_person_and_their_sessions_end(client, people):
    operator, person = await people.make(operator=True), await people.make()
    headers = await people.token(person)
    await sign_in_as(client, operator)
    response = await post_form(client, f"/admin/people/{person.id}/access", {"reviewer": "true"})
    assert response.status_code == 303
    await person.refresh_from_db()
    assert not person.is_active and person.is_reviewer
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    assert await AuditEvent.exists(action="user.access_changed", target_id=str(person.id))


async def test_an_operator_cannot_lock_themselves_out(client, people):
    operator = await people.make(operator=True)
    await sign_in_as(client, operator)
    response = await post_form(client, f"/admin/people/{operator.id}/access", {"active": "true"})
    assert response.status_code == 422
    assert (await User.get(id=operator.id)).is_operator


async def test_the_audit_log_filters_and_exports_csv(client, people):
    operator, person = await people.make(operator=True), await people.make()
    await AuditEvent.create(action="login.failed", after={"email": person.email}, client_address="192.0.2.7")
    await sign_in_as(client, operator)
    page = await client.get("/admin/audit", params={"action": "login.failed"})
    assert page.status_code == 200
    assert "192.0.2.7" in page.text
    assert "user.created" not in page.text
    # Sentences, not event codes and JSON.
    assert "ログインに失敗しました。" in page.text and f"メールアドレス: {person.email}" in page.text
    assert "login.failed</" not in page.text and "{&#34;email&#34;" not in page.text and '{"email"' not in page.text
    await AuditEvent.create(action="challenge.published", target_type="challenge", target_id="4242",
                            before={"status": "in_review"}, after={"status": "published"})
    published = await client.get("/admin/audit", params={"action": "challenge.published"})
    assert "課題 4242を公開しました。" in published.text
    export = await client.get("/admin/audit.csv", params={"action": "login.failed"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows and all(row["action"] == "login.failed" for row in rows)
    assert any(row["client_address"] == "192.0.2.7" for row in rows)
    assert await AuditEvent.exists(action="audit.exported", actor_id=operator.id)


async def test_the_audit_log_names_fields_and_states_as_the_pages_do(client, cast):
    draft = await _draft(client, cast)
    edited = await client.patch(f"/api/v1/challenges/{draft['id']}", headers=cast["agency"],
                                json={"proposals_deadline": _at(25), "budget_max_yen": 4_000_000})
    assert edited.status_code == 200, edited.text
    sent = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"},
                             headers=cast["agency"])
    assert sent.status_code == 200, sent.text
    await sign_in_as(client, cast["users"]["operator"])
    query = {"target_type": "challenge", "action": "challenge."}
    ja = (await client.get("/admin/audit", params=query | {"lang": "ja"})).text
    en = (await client.get("/admin/audit", params=query | {"lang": "en"})).text
    # The labels of the challenge form, not the stored names.
    assert "変更した項目: 予算の上限（円）, 提案締切" in ja, ja
    assert "Changed fields: Budget up to (yen), Proposals until" in en
    assert "状況: 下書き → 承認待ち" in ja and "Status: Draft → Waiting for approval" in en
    assert "proposals_deadline" not in ja + en and "budget_max_yen" not in ja + en


async def test_a_bad_audit_filter_is_a_form_error_not_a_crash(client, people):
    await sign_in_as(client, await people.make(operator=True))
    response = await client.get("/admin/audit", params={"since": "not-a-date"})
    assert response.status_code == 200
    assert "error-summary" in response.text


async def test_the_console_does_not_grow_with_the_pending_organisations(client, people, queries):
    await sign_in_as(client, await people.make(operator=True))
    counts = []
    for numbers in (("7010001000010", "8010001000019"), ("9010001000017", "1010001000024", "2010001000022", "3010001000020")):
        for number in numbers:
            await _pending_company(number)
        with queries() as log:
            assert (await client.get("/admin")).status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1] <= 8, str(log)


async def test_the_audit_log_shows_stored_moments_in_japan_time(client, cast, people):
    agency = await Organisation.get(municipality_code="131041")
    admin = await people.make(org=agency, role=Role.ADMIN)
    invited = await client.post(f"/api/v1/organisations/{agency.id}/invitations",
                                json={"email": "audit-moment@example.jp", "role": "member"},
                                headers=await people.token(admin))
    assert invited.status_code == 201, invited.text
    expires = (await AuditEvent.filter(action="invitation.created").order_by("-id").first()).after["expires_at"]
    await sign_in_as(client, cast["users"]["operator"])
    query = {"target_type": "invitation", "action": "invitation."}
    ja = (await client.get("/admin/audit", params=query | {"lang": "ja"})).text
    en = (await client.get("/admin/audit", params=query | {"lang": "en"})).text
    moment = datetime.fromisoformat(expires).astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour}:{moment.minute:02d} JST" in ja, ja
    assert f"{moment.day} {moment.strftime('%b')} {moment.year}, {moment:%H:%M} JST" in en
    assert expires not in ja + en  # not the stored ISO text


# The states an object's transitions record as `kind.{state}` (audit.record with an f-string code).
STATE_EVENTS = {
    "challenge": "models.challenges.models:ChallengeStatus", "proposal": "models.proposals.models:ProposalStatus",
    "pilot": "models.pilots.models:PilotStatus", "milestone": "models.pilots.models:MilestoneStatus",
    "measurement": "models.pilots.models:MeasurementStatus", "solution": "models.solutions.models:SolutionStatus",
    "adoption": "models.solutions.models:AdoptionStatus", "partner": "models.partners.models:PartnerStatus",
    "partner_invitation": "models.partners.models:InvitationStatus",
    "solution.correction_": "models.solutions.models:CorrectionStatus",
}


def _recorded_codes() -> set[str]:
    """Every event code the code base records: the literal ones, and each state of the transitions' f-strings."""
    import importlib
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = "\n".join(path.read_text(encoding="utf-8") for folder in ("models", "server") for path in (root / folder).rglob("*.py"))
    codes = set(re.findall(r'audit\.record\(\s*"([a-z_]+\.[a-z_]+)"', source))
    for prefix, where in STATE_EVENTS.items():
        module, name = where.split(":")
        states = getattr(importlib.import_module(module), name)
        codes |= {f"{prefix}{state.value}" if prefix.endswith("_") else f"{prefix}.{state.value}" for state in states}
    assert len(codes) > 60, "the scan found the audit.record calls"
    return codes


def test_every_recorded_event_reads_as_a_sentence_in_both_languages():
    from server.audit_words import sentence
    from server.i18n import using_locale

    unread = []
    for code in sorted(_recorded_codes()):
        verb = code.partition(".")[2]
        for lang in ("ja", "en"):
            with using_locale(lang):
                text = sentence(code, "7")
            # the fallback names the stored code ("Recorded for the partner 7: suspended."); Japanese has no English verb
            if "について記録" in text or "Recorded for" in text or (lang == "ja" and verb.replace("_", " ") in text):
                unread.append(f"{code} ({lang}): {text}")
    assert not unread, "\n".join(unread)


async def test_an_operator_suspending_a_partner_reads_as_such_in_the_log(client, people):
    from models.core import audit

    operator = await people.make(operator=True)
    await audit.record("partner.suspended", actor=operator, target=operator, after={"reason": "規約違反"})
    await sign_in_as(client, operator)
    ja = (await client.get("/admin/audit", params={"action": "partner.suspended", "lang": "ja"})).text
    en = (await client.get("/admin/audit", params={"action": "partner.suspended", "lang": "en"})).text
    assert f"パートナー {operator.id}を停止しました。" in ja, ja
    assert f"Suspended the partner {operator.id}." in en


async def test_the_log_names_a_partner_profiles_and_a_pilots_fields_as_their_forms_do(client, people):
    from models.core import audit
    from models.partners.profiles import SIMPLE_FIELDS

    operator = await people.make(operator=True)
    fields = sorted([*SIMPLE_FIELDS, "skills"])
    await audit.record("partner.updated", actor=operator, target=operator, after={"fields": fields})
    await audit.record("pilot.dates_changed", actor=operator, target=operator,
                       after={"starts_on": "2026-12-01", "ends_on": "2027-05-31"})
    await audit.record("pilot.kpis_changed", actor=operator, target=operator, after={"kpis": 3})
    await sign_in_as(client, operator)
    for lang, words in (("ja", ("スキル", "対応できる言語", "開始日", "終了日", "2026年12月1日")),
                        ("en", ("Skills", "Languages you work in", "Starts on", "Ends on", "KPIs: 3"))):
        page = (await client.get("/admin/audit", params={"target_type": "user", "lang": lang})).text
        for word in words:
            assert word in page, (lang, word)
        for raw in (*fields, "starts_on", "ends_on", "kpis"):  # the stored names (English words: checked in ja)
            if lang == "ja" or "_" in raw:
                assert f"{raw}:" not in page and f"{raw}," not in page, (lang, raw)
