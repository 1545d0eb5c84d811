"""The console's cookie session: login, logout, expiry, CSRF, security headers, error pages.

The tokens are the API's own (services/sessions.py issues, rotates and revokes them), kept in
HttpOnly cookies by flask-jwt-extended. Every state change carries the CSRF token bound to the
access token, as a form field or an X-CSRF-TOKEN header; without it: 403, nothing done.
"""

import hmac
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_jwt_extended import (
    current_user,
    decode_token,
    get_csrf_token,
    get_jwt,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import CSRFError, JWTExtendedException
from jwt import ExpiredSignatureError, PyJWTError
from werkzeug.exceptions import HTTPException

from ..db import get_db
from ..errors import ApiError
from ..roles import GRID_WORKER
from ..services import sessions
from . import bp

PUBLIC = {"console.login", "console.static"}
# Where a login goes when it was not sent from a page.
HOME = "console.problems"

CSP = (
    "default-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


CSRF_MESSAGE = "请求缺少安全校验信息（CSRF），操作未执行。请刷新页面后重试。"


class NotLoggedIn(Exception):
    """No usable session: go to the login page (and come back)."""


class ExpiredLogout(Exception):
    """退出 after the access token expired: the session still has a refresh token to end."""


@bp.before_request
def load_session():
    """Every console page but the login needs a live session of a console role."""
    g.console_pair = None
    if request.endpoint in PUBLIC:
        return None
    try:
        _verify()
    except CSRFError:
        return error_page(403, CSRF_MESSAGE)
    except ExpiredLogout:
        return _expired_logout()
    except NotLoggedIn:
        return to_login()
    if current_user["role"] == GRID_WORKER:
        return error_page(403, "网格员请使用手机端")
    g.console_user = current_user
    return None


def _verify():
    try:
        verify_jwt_in_request(locations=["cookies"])
        return
    except CSRFError:
        raise
    except ExpiredSignatureError:
        if request.endpoint == "console.logout":
            raise ExpiredLogout() from None
        if request.method != "GET" or request.endpoint == "console.photo":
            raise NotLoggedIn() from None
    except (JWTExtendedException, PyJWTError):
        raise NotLoggedIn() from None
    _refresh()


def _refresh():
    """An expired access token on a page: rotate the refresh cookie, as the API's refresh does."""
    try:
        verify_jwt_in_request(refresh=True, locations=["cookies"])
        _user, pair = sessions.refresh(get_db().conn, current_user["id"], get_jwt())
    except (JWTExtendedException, PyJWTError, ApiError):
        raise NotLoggedIn() from None
    g.console_pair = pair
    g.console_csrf = get_csrf_token(pair["access_token"])


def csrf_token():
    """The CSRF token of this session, for forms and the page's meta tag."""
    if "console_csrf" not in g:
        try:
            g.console_csrf = get_jwt().get("csrf", "")
        except RuntimeError:
            g.console_csrf = ""
    return g.console_csrf


def safe_next(target):
    """A console path to come back to, or None (no other hosts, no scheme tricks)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    if "\\" in target or target.startswith("//"):
        return None
    if parts.path.startswith("/console/login"):
        return None
    return target


def _here():
    """The page the user was on: this GET, else the page the form was on."""
    if request.headers.get("HX-Request"):
        current = request.headers.get("HX-Current-URL", "")
        parts = urlsplit(current)
        if parts.netloc == request.host:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    if request.method == "GET":
        return request.full_path.rstrip("?")
    ref = urlsplit(request.referrer or "")
    if ref.netloc == request.host:
        return ref.path + (f"?{ref.query}" if ref.query else "")
    return None


def to_login():
    """To the login page with next=; htmx requests get HX-Redirect."""
    target = url_for("console.login", next=safe_next(_here()))
    if request.headers.get("HX-Request"):
        resp = current_app.response_class("", status=200)
        resp.headers["HX-Redirect"] = target
    else:
        resp = redirect(target)
    unset_jwt_cookies(resp)
    return resp


@bp.after_request
def security_headers(resp):
    """CSP without inline script, no framing, no sniffing; new cookies after a refresh."""
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    if resp.mimetype == "text/html":
        resp.headers["Cache-Control"] = "no-store"
    pair = g.get("console_pair")
    if pair:
        set_access_cookies(resp, pair["access_token"])
        set_refresh_cookies(resp, pair["refresh_token"])
    return resp


@bp.app_context_processor
def _page_globals():
    return {"csrf_token": csrf_token, "current_user_row": g.get("console_user")}


@bp.route("/")
def index():
    """The console's front door is the problem queue."""
    return redirect(url_for(HOME))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """登录: the API's login (limit, tokens, audit), refusing grid workers."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("console/login.html", next=next_url, error=None, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _login_failed("请输入用户名和密码", 400, next_url, username)
    try:
        _user, pair = sessions.login(
            get_db().conn,
            username,
            password,
            request.remote_addr or "-",
            refuse_roles=(GRID_WORKER,),
            door="console",
        )
    except ApiError as e:
        if e.status == 429:
            retry = e.headers.get("Retry-After", "")
            minutes = max(1, -(-int(retry or 60) // 60))
            return _login_failed(
                f"登录失败次数过多，请{minutes}分钟后再试",
                429,
                next_url,
                username,
                {"Retry-After": retry},
            )
        if e.status == 403:
            return _login_failed("网格员请使用手机端", 403, next_url, username)
        return _login_failed("用户名或密码错误", 401, next_url, username)
    resp = redirect(next_url or url_for(HOME))
    set_access_cookies(resp, pair["access_token"])
    set_refresh_cookies(resp, pair["refresh_token"])
    return resp


def _login_failed(message, status, next_url, username, headers=None):
    html = render_template("console/login.html", next=next_url, error=message, username=username)
    return html, status, headers or {}


@bp.route("/logout", methods=["POST"])
def logout():
    """退出: revoke both tokens (as the API's logout does) and clear the cookies."""
    return _log_out(current_user["id"], get_jwt())


def _log_out(user_id, access_payload):
    sessions.logout(get_db().conn, user_id, access_payload, request.remote_addr)
    flash("已退出")
    resp = redirect(url_for("console.login"))
    unset_jwt_cookies(resp)
    return resp


def _expired_logout():
    """退出 with an expired access token: the form's CSRF token is checked against it (its
    signature still holds), then the pair is revoked as on a live logout, so the refresh
    cookie cannot come back to life; a form without the token changes nothing (403)."""
    token = request.cookies.get(current_app.config["JWT_ACCESS_COOKIE_NAME"], "")
    try:
        payload = decode_token(token, allow_expired=True)
    except (JWTExtendedException, PyJWTError):
        return to_login()
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-TOKEN") or ""
    if not hmac.compare_digest(sent.encode(), str(payload.get("csrf", "")).encode()):
        return error_page(403, CSRF_MESSAGE)
    return _log_out(payload[current_app.config["JWT_IDENTITY_CLAIM"]], payload)


# --- error pages ---------------------------------------------------------------------------

MESSAGES = {
    403: "没有权限",
    404: "页面不存在，或不在您的管辖范围内",
    405: "不支持的请求方式",
    410: "该记录已删除",
}


def error_page(status, message=None):
    html = render_template(
        "console/error.html", status=status, message=message or MESSAGES.get(status, "出错了")
    )
    return html, status


@bp.errorhandler(ApiError)
def _api_error(e):
    return error_page(e.status if e.status in MESSAGES else 400, MESSAGES.get(e.status))


@bp.errorhandler(HTTPException)
def _http_error(e):
    return error_page(e.code or 500)


@bp.route("/<path:_rest>")
def not_found(_rest):
    """Any other /console/ path: the 404 page (for a logged-in user)."""
    return error_page(404)
