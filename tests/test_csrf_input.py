"""The CSRF check reads form bodies before anything else: a body it cannot read is a 400 (or the usual
403 when the token is missing), never a 500, and the answer carries the security headers."""

from __future__ import annotations

import pytest

from tests.web import csrf_token, sign_in_as

FORM = "application/x-www-form-urlencoded"


def _multipart(token: str, boundary: str = "kyoso") -> bytes:
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--{boundary}--\r\n').encode()


@pytest.fixture
async def browser(client, people):
    await sign_in_as(client, await people.make())
    return client


async def _post(client, path: str, body: bytes, content_type: str):
    response = await client.post(path, content=body, headers={"content-type": content_type})
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    return response


@pytest.mark.parametrize("path", ["/login", "/account/profile"])
async def test_unreadable_form_bodies_are_a_400(browser, path):
    token = await csrf_token(browser)
    unreadable = [
        (_multipart(token), "multipart/form-data"),  # no boundary
        (_multipart(token), "multipart/form-data; boundary="),
        (b"--kyoso\r\ngarbage\r\n\r\nv\r\n--kyoso--\r\n", "multipart/form-data; boundary=kyoso"),
        (b"\x00\x01\x02", "multipart/form-data; boundary=kyoso"),
    ]
    for body, content_type in unreadable:
        response = await _post(browser, path, body, content_type)
        assert response.status_code == 400, (body, content_type, response.status_code)
        assert "フォームを読み取れませんでした" in response.text  # the signed-in person reads Japanese


@pytest.mark.parametrize("path", ["/login", "/account/profile"])
async def test_invalid_utf_8_in_a_form_is_not_a_500(browser, path):
    token = await csrf_token(browser)
    without_token = await _post(browser, path, b"name=\xff\xfe", FORM)
    assert without_token.status_code == 403
    with_token = await _post(browser, path, f"csrftoken={token}&name=".encode() + b"\xff\xfe", FORM)
    assert with_token.status_code < 500


async def test_a_quoted_or_unspaced_boundary_still_finds_the_token(browser):
    token = await csrf_token(browser)
    for content_type in ('multipart/form-data; boundary="kyoso"', "multipart/form-data;boundary=kyoso"):
        response = await _post(browser, "/account/profile", _multipart(token), content_type)
        assert response.status_code != 403 and response.status_code < 500, (content_type, response.status_code)


async def test_a_bearer_header_does_not_spare_a_cookie_signed_form_its_csrf_check(browser, people):
    # Pages are signed in by the session cookie alone: an Authorization header must not skip their check.
    response = await browser.post("/account/profile", data={"name": "Mallory", "locale": "en"},
                                  headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
