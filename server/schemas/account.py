from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from server.text import Name


class ProfileForm(BaseModel):
    name: Name = Field(min_length=1, max_length=200)
    locale: Literal["ja", "en"]
    expertise: list[str] = []

    @field_validator("expertise", mode="before")
    @classmethod
    def _tags(cls, value: object) -> list[str]:
        if isinstance(value, str):  # a form sends "tag1, tag2"
            value = value.replace("、", ",").split(",")
        return [tag.strip()[:50] for tag in value or [] if tag.strip()][:30]  # type: ignore[union-attr]


class PasswordForm(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    revoke_tokens: bool = False  # a ticked checkbox sends "on"


class TokenForm(BaseModel):
    name: str = Field(default="", max_length=100)
