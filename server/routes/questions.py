"""Questions and answers on a challenge: the API, and the forms in the challenge page's Q&A panel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as lifecycle
from models.challenges import questions as qa
from models.challenges.models import Challenge, ChallengeStatus, Question
from models.challenges.reader import ReaderRows, reader_rows
from models.core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.policy import Actor
from models.policy.challenges import is_public, may_answer_questions, may_see_askers, owns_challenge
from server import flash
from server.api import api
from server.caching import shared
from server.forms import errors_from, read_form
from server.i18n import get_locale
from server.i18n import gettext as _
from server.problems import page_message, signed_in
from server.schemas.questions import AnswerIn, PageQuery, QuestionIn, QuestionListOut, QuestionOut

SEE_OTHER = 303


def back_to(challenge_id: int, done: str) -> RedirectResponse:
    """Back to the challenge page, which shows the banner `done` (server.flash)."""
    return flash.redirect(f"/challenges/{challenge_id}", done)


async def rerender(request: Request, challenge: Challenge, errors: dict[str, str], values: dict[str, Any],
                   status: int) -> Response:
    """The challenge page again, with the form's errors and what the person typed (`request.state.form_values`)."""
    from server.routes.challenges import _detail  # here: the challenge page itself includes this module's panel

    request.state.form_values = values
    return await _detail(request, request.state.actor, challenge, errors, status)


def renamed(errors: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """Schema field names -> the form's field names (unique on the challenge page)."""
    return {names.get(name, name): message for name, message in errors.items()}


async def submit_one_field(request: Request, challenge: Challenge, field: str, schema: type, schema_field: str,
                           act: Callable[[Any], Awaitable[Any]], done: str) -> Response:
    """A form with one text field on the challenge page: validate it with `schema`, call `act` with the valid
    body, and go back to the challenge; on an error show the page again with the message and what was typed."""
    values = {field: str((await read_form(request)).get(field, ""))}
    try:
        body = schema.model_validate({schema_field: values[field]} if values[field] else {})
        await act(body)
    except (ValidationError, ValidationFailed) as exc:
        return await rerender(request, challenge, renamed(errors_from(exc), {schema_field: field}), values, 400)
    except InvalidTransition as exc:
        return await rerender(request, challenge, {field: page_message(exc)}, values, 409)
    return back_to(challenge.id, done)


# --- API -------------------------------------------------------------------------------------


async def _out(actor: Actor, challenge: Challenge, question: Question, show_asker: bool | None = None) -> QuestionOut:
    if show_asker is None:
        show_asker = await may_see_askers(actor, challenge)
    if show_asker:
        question = await qa.with_asker(question)
    return QuestionOut.of(question, mine=qa.asked_by(actor, question), show_asker=show_asker)


@api.operation("/challenges/{challenge_id:int}/questions", summary="The questions on a challenge the caller may see",
               query=PageQuery, response=QuestionListOut, public=True, tags=["questions"])
async def list_questions(request: Request, actor: Actor, challenge_id: int, query: PageQuery) -> QuestionListOut:
    """Answered questions for everyone (never who asked); unanswered ones for the asking company, owners, operators."""
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    questions = await qa.questions_visible_to(actor, challenge)
    show_asker = await may_see_askers(actor, challenge)
    page = questions[query.offset:query.offset + query.per_page]
    return QuestionListOut(
        items=[QuestionOut.of(q, mine=qa.asked_by(actor, q), show_asker=show_asker) for q in page],
        total=len(questions), page=query.page, per_page=query.per_page,
    )


@api.operation("/challenges/{challenge_id:int}/questions", "POST",
               summary="Ask a question (company members, until the questions deadline)",
               body=QuestionIn, response=QuestionOut, status=201, tags=["questions"])
async def ask_question(request: Request, actor: Actor, challenge_id: int, body: QuestionIn) -> QuestionOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    question = await qa.ask(actor, challenge, body.body)
    return await _out(actor, challenge, question)


@api.operation("/questions/{question_id:int}/answer", "POST",
               summary="Answer a question (the challenge's owners); the answer is published to everyone",
               body=AnswerIn, response=QuestionOut, tags=["questions"])
async def answer_question(request: Request, actor: Actor, question_id: int, body: AnswerIn) -> QuestionOut:
    question = await qa.get_question(actor, question_id)
    question = await qa.answer(actor, question, body.answer)
    return await _out(actor, question.challenge, question, show_asker=True)


# --- the challenge page ----------------------------------------------------------------------


def _view(actor: Actor, question: Question, show_asker: bool) -> dict[str, Any]:
    asker = ""
    if show_asker:
        organisation = question.asker_organisation
        names = [question.asker.name if question.asker else "", organisation.name(get_locale()) if organisation else ""]
        asker = " / ".join(name for name in names if name)
    return {
        "id": question.id,
        "body": question.body,
        "answer": question.answer,
        "asked_at": question.created_at,
        "answered_at": question.answered_at,
        "mine": qa.asked_by(actor, question),
        "asker": asker,
    }


async def detail_context(actor: Actor, challenge: Challenge, theirs: ReaderRows | None = None) -> dict:
    """What this area adds to the challenge page's template context. `theirs`: which of their own rows the reader
    has on the challenge (models.challenges.reader), when the page asked already."""
    show_askers = await may_see_askers(actor, challenge)
    if show_askers:
        questions = await qa.all_questions_with_askers(challenge)
    else:
        # the answered ones are the same for every reader: kept a moment for the next (server/caching.py)
        questions = list(await shared(("answered questions", challenge.id), lambda: qa.answered_questions(challenge),
                                      public=is_public(challenge)))
        if actor.user is not None and (theirs or await reader_rows(actor, challenge)).waiting_questions:
            questions += await qa.waiting_questions_of(actor, challenge)
    views = [_view(actor, q, show_askers) for q in questions]
    try:
        qa.asking_company(actor)
        is_company = True
    except NotAllowed:
        is_company = False
    refusal = qa.ask_refusal(challenge)
    return {
        "qa_answered": [v for v in views if v["answered_at"]],
        "qa_waiting": [v for v in views if not v["answered_at"]],
        "qa_show_askers": show_askers,
        "qa_may_answer": await may_answer_questions(actor, challenge),
        "qa_may_ask": is_company and refusal is None,
        "qa_is_company": is_company,
        "qa_refusal": _(refusal) if refusal and challenge.status in ("published", "closed", "decided") else "",
        "qa_deadline": qa.questions_deadline(challenge),
        "qa_sign_in_to_ask": challenge.status == ChallengeStatus.PUBLISHED.value and actor.is_visitor,
    }


async def ask_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    qa.asking_company(actor)  # refused before the form is read
    return await submit_one_field(request, challenge, "question_body", QuestionIn, "body",
                                  lambda body: qa.ask(actor, challenge, body.body), "question.asked")


async def answer_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    question = await qa.get_question(actor, request.path_params["question_id"])
    if question.challenge_id != challenge.id:
        raise NotFound("no such question on this challenge")
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners answer")
    return await submit_one_field(request, challenge, f"answer_{question.id}", AnswerIn, "answer",
                                  lambda body: qa.answer(actor, question, body.answer), "question.answered")


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/questions", ask_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/questions/{question_id:int}/answer", answer_page, methods=["POST"]),
]
