from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from models.core.errors import N_
from server.text import Name


class LoginForm(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    next: str = ""


class LinkForm(BaseModel):
    token: str = Field(min_length=1, max_length=100)
    next: str = ""


class ForgotPasswordForm(BaseModel):
    email: str = Field(min_length=1, max_length=254)


class ResetPasswordForm(BaseModel):
    token: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class SignupForm(BaseModel):
    company_name_ja: Name = Field(min_length=1, max_length=200)
    company_name_en: Name = Field(default="", max_length=200)
    corporate_number: str = Field(min_length=1, max_length=40)
    person_name: Name = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    locale: Literal["ja", "en"] = "ja"
    next: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError(N_("Enter a valid e-mail address."))
        return value


def safe_next(target: str, default: str = "/") -> str:
    """Only same-site relative paths, so a login link cannot send people elsewhere."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
