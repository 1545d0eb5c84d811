"""The console's cookie session: login, refusal, limit, logout, expiry, CSRF and headers."""

import time

import pytest
from conftest import PASSWORD
from console_helpers import console_login, csrf_of, text

from survey_api.db import connect


def audit_actions(app):
    conn = connect(app.config["DATABASE"])
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    finally:
        conn.close()


def test_login_page_labels(client):
    resp = client.get("/console/login")
    html = text(resp)
    assert resp.status_code == 200
    assert '<html lang="zh-CN">' in html
    for word in ('for="username">用户名<', 'for="password">密码<', ">登录</button>"):
        assert word in html


def test_login_sets_httponly_lax_cookies_and_goes_to_the_queue(client, app):
    resp = console_login(client, "secretary")
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/problems"
    cookies = resp.headers.getlist("Set-Cookie")
    access = next(c for c in cookies if c.startswith("access_token_cookie="))
    refresh = next(c for c in cookies if c.startswith("refresh_token_cookie="))
    for cookie in (access, refresh):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Path=/console/" in refresh
    assert audit_actions(app)[-1] == "auth.login"
    page = client.get("/console/problems")
    assert page.status_code == 200 and "<h1>问题清单</h1>" in text(page)


def test_secure_cookies_when_configured(app, client):
    app.config["JWT_COOKIE_SECURE"] = True
    resp = console_login(client, "secretary")
    assert all("Secure" in c for c in resp.headers.getlist("Set-Cookie") if "token_cookie" in c)


def test_wrong_password_says_so_and_counts_towards_the_limit(client, app):
    resp = console_login(client, "secretary", password="wrong")
    assert resp.status_code == 401
    assert "用户名或密码错误" in text(resp)
    assert "access_token_cookie" not in resp.headers.get("Set-Cookie", "")
    assert audit_actions(app)[-1] == "auth.login_failed"
    for _ in range(9):
        console_login(client, "secretary", password="wrong")
    locked = console_login(client, "secretary")  # the right password, but locked out
    assert locked.status_code == 429 and "登录失败次数过多" in text(locked)
    # The API's login shares the limit.
    api = client.post("/api/v1/auth/login", json={"username": "secretary", "password": PASSWORD})
    assert api.status_code == 429


def test_unknown_user_reads_like_a_wrong_password(client):
    resp = console_login(client, "nobody")
    assert resp.status_code == 401 and "用户名或密码错误" in text(resp)


def test_grid_worker_is_refused(client, app):
    resp = console_login(client, "worker")
    assert resp.status_code == 403
    assert "网格员请使用手机端" in text(resp)
    assert "access_token_cookie" not in resp.headers.get("Set-Cookie", "")
    assert audit_actions(app)[-1] == "auth.login_refused"


def test_grid_worker_with_a_token_cookie_gets_no_pages(client, auth):
    client.set_cookie("access_token_cookie", auth.tokens("worker")["access_token"])
    resp = client.get("/console/problems")
    assert resp.status_code == 403 and "网格员请使用手机端" in text(resp)


@pytest.mark.parametrize("path", ["/console/problems", "/console/problems?queue=overdue&q=x"])
def test_no_session_goes_to_login_and_back(client, path):
    resp = client.get(path)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/console/login?next=")
    back = console_login(client, "secretary", next_url=path)
    assert back.headers["Location"] == path


def test_next_refuses_other_hosts(client):
    for target in (
        "https://evil.example/console/",
        "//evil.example/x",
        "/api/v1/me",
        "/console/login",
    ):
        resp = console_login(client, "secretary", next_url=target)
        assert resp.headers["Location"] == "/console/problems", target


def test_htmx_request_without_session_gets_hx_redirect(client):
    resp = client.get(
        "/console/problems?queue=reported",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://localhost/console/problems?queue=all",
        },
    )
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].startswith("/console/login?next=")
    assert "queue%3Dall" in resp.headers["HX-Redirect"]


def test_expired_access_refreshes_from_the_refresh_cookie(app, client):
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 1
    console_login(client, "secretary")
    old = client.get_cookie("access_token_cookie").value
    time.sleep(1.2)
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 900  # the refreshed one outlives a slow request
    resp = client.get("/console/problems")
    assert resp.status_code == 200, resp.headers.get("Location")
    assert client.get_cookie("access_token_cookie").value != old
    assert "auth.refresh" in audit_actions(app)


def test_expired_session_goes_to_login_and_back(app, client):
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 1
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = 1
    console_login(client, "secretary")
    time.sleep(1.2)
    resp = client.get("/console/problems?queue=overdue")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/console/login?next=/console/problems?queue%3Doverdue"


def test_logout_revokes_the_tokens(client, app):
    console_login(client, "secretary")
    token = client.get_cookie("access_token_cookie").value
    csrf = csrf_of(client)
    resp = client.post("/console/logout", data={"csrf_token": csrf})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login"
    assert client.get_cookie("access_token_cookie") is None
    assert audit_actions(app)[-1] == "auth.logout"
    # The token itself is revoked, in the console and in the API.
    client.set_cookie("access_token_cookie", token)
    assert client.get("/console/problems").status_code == 302
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401 and api.get_json()["code"] == "TOKEN_REVOKED"


def test_logout_after_the_access_token_expired_still_ends_the_session(app, client):
    """The page was left open past the access token's life: 退出 must revoke the refresh
    token too, or the refresh cookie would open a new session."""
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 1
    console_login(client, "secretary")
    csrf = csrf_of(client)
    refresh = client.get_cookie("refresh_token_cookie", path="/console/").value
    time.sleep(1.2)
    resp = client.post("/console/logout", data={"csrf_token": csrf})
    assert resp.status_code == 302 and resp.headers["Location"] == "/console/login"
    assert audit_actions(app)[-1] == "auth.logout"
    assert client.get_cookie("refresh_token_cookie", path="/console/") is None
    # The refresh cookie put back does not log anyone in.
    client.set_cookie("refresh_token_cookie", refresh, path="/console/")
    resp = client.get("/console/problems")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/console/login")
    assert "auth.refresh" not in audit_actions(app)


def test_logout_after_expiry_without_csrf_is_403_and_keeps_the_refresh(app, client):
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 1
    console_login(client, "secretary")
    time.sleep(1.2)
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 900  # the refreshed one outlives a slow request
    for data in ({}, {"csrf_token": "not-the-token"}):
        resp = client.post("/console/logout", data=data)
        assert resp.status_code == 403
    assert "auth.logout" not in audit_actions(app)
    assert client.get("/console/problems").status_code == 200  # refreshed, still logged in
    assert "auth.refresh" in audit_actions(app)


def test_logout_without_csrf_is_403_and_keeps_the_session(client, app):
    console_login(client, "secretary")
    resp = client.post("/console/logout")
    assert resp.status_code == 403
    assert "auth.logout" not in audit_actions(app)
    assert client.get("/console/problems").status_code == 200


def test_bearer_api_unchanged_and_cookie_api_needs_csrf(client, auth):
    assert client.get("/api/v1/me", headers=auth.headers("secretary")).status_code == 200
    console_login(client, "secretary")
    # The cookie reads the API too (the export links use that) ...
    assert client.get("/api/v1/me").status_code == 200
    # ... but a state change by cookie needs the CSRF token.
    resp = client.post("/api/v1/auth/logout")
    assert resp.status_code == 403 and resp.get_json()["code"] == "FORBIDDEN"


def test_security_headers_on_pages_and_static(client):
    for path in ("/console/login", "/console/static/console.css"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        resp.close()


def test_pages_have_no_inline_script_or_style(client):
    console_login(client, "secretary")
    for path in ("/console/login", "/console/problems"):
        html = text(client.get(path))
        assert "<style" not in html and " style=" not in html
        for tag in html.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), tag[:80]


def test_nav_links_and_logout_button(client):
    console_login(client, "secretary")
    html = text(client.get("/console/problems"))
    for word in (">问题清单</a>", ">统计</a>", ">走访台账</a>", ">退出</button>"):
        assert word in html
    assert ">管理</a>" not in html
    console_login(client, "admin")
    assert ">管理</a>" in text(client.get("/console/problems"))


def test_unknown_console_path_is_a_404_page(client):
    console_login(client, "secretary")
    resp = client.get("/console/no-such-page")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
