"""The caller's own identity."""

from __future__ import annotations

from starlette.requests import Request

from models.policy import Actor, require_user
from server.api import api
from server.schemas.people import Me, OrganisationRef


@api.operation("/me", summary="The person behind the bearer token", response=Me, tags=["people"])
async def get_me(request: Request, actor: Actor) -> Me:
    user = require_user(actor)
    org = actor.organisation
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation=OrganisationRef(
            id=org.id,
            kind=org.kind,
            name={"ja": org.name_ja, "en": org.name_en},
            code=org.code,
            status=org.status,
        )
        if org
        else None,
        roles=actor.roles,
        locale=user.locale,
    )
