"""server/auth/security.py replaces one private function of asgi-csrf (pinned exactly in pyproject.toml):
an upgrade that renames it or changes its contract must fail here, not silently leave multipart forms broken."""

from __future__ import annotations

import importlib.util
import inspect

import asgi_csrf

from server.auth import security


def _pristine_asgi_csrf():
    """A fresh copy of the library, as it is before server/auth/security.py patches it."""
    spec = importlib.util.find_spec("asgi_csrf")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_replaced_multipart_parser_still_exists_with_the_same_contract():
    original = _pristine_asgi_csrf()._parse_multipart_form_data
    assert inspect.iscoroutinefunction(original)
    assert list(inspect.signature(original).parameters) == ["boundary", "receive"]
    assert list(inspect.signature(security._csrf_token_from_multipart).parameters) == ["boundary", "receive"]


def test_the_middleware_calls_the_parser_by_its_module_name_so_the_replacement_is_used():
    pristine = _pristine_asgi_csrf()
    assert "_parse_multipart_form_data(" in inspect.getsource(pristine.asgi_csrf_decorator)
    assert asgi_csrf._parse_multipart_form_data is security._csrf_token_from_multipart
