"""Login, refresh rotation, its retry window and reuse detection, logout, revocation, rate
limiting."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt as pyjwt
import live_server
import pytest
import requests
from conftest import PASSWORD, assert_problem

from survey_api import create_app
from survey_api.db import connect, write_tx
from survey_api.storage import tokens as token_store


def test_login_returns_tokens_and_me_body(auth):
    resp = auth.login("secretary", device_id="phone-1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]
    assert body["user"] == {
        "user": {
            "id": body["user"]["user"]["id"],
            "username": "secretary",
            "display_name": "Secretary",
        },
        "role": "secretary",
        "units": [{"code": "370303001001", "name": "杏园社区", "level": "community"}],
    }


def test_me_matches_login_user(client, auth):
    me = client.get("/api/v1/me", headers=auth.headers("worker"))
    assert me.status_code == 200
    assert me.get_json() == auth.tokens("worker")["user"]


def test_token_identity_is_a_string(app, auth):
    payload = pyjwt.decode(
        auth.tokens("admin")["access_token"], app.config["JWT_SECRET_KEY"], algorithms=["HS256"]
    )
    assert isinstance(payload["sub"], str)


def test_wrong_password(auth):
    assert_problem(auth.login("secretary", "wrong-password"), 401, "INVALID_CREDENTIALS")


def test_unknown_user_same_answer(auth):
    assert_problem(auth.login("nobody", "wrong-password"), 401, "INVALID_CREDENTIALS")


def test_login_validation(client):
    assert_problem(
        client.post("/api/v1/auth/login", json={"username": "x"}), 422, "VALIDATION_ERROR"
    )
    body = assert_problem(
        client.post("/api/v1/auth/login", json={"username": "x", "password": "y", "extra": 1}),
        422,
        "VALIDATION_ERROR",
    )
    assert "extra" in body["errors"]


def test_missing_token(client):
    assert_problem(client.get("/api/v1/me"), 401, "TOKEN_MISSING")


def test_garbage_token_is_401_not_422(client):
    for value in ("Bearer garbage", "Bearer a.b.c", "Token abc", "Bearer "):
        resp = client.get("/api/v1/me", headers={"Authorization": value})
        assert resp.status_code == 401, value
        assert resp.get_json()["code"] in ("TOKEN_INVALID", "TOKEN_MISSING")


def test_token_signed_with_other_key(client, user_ids):
    forged = pyjwt.encode(
        {
            "sub": user_ids["admin"],
            "type": "access",
            "jti": "x",
            "gen": 0,
            "exp": int(time.time()) + 60,
        },
        "another-key-another-key-another-key",
        algorithm="HS256",
    )
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}),
        401,
        "TOKEN_INVALID",
    )


def test_expired_token(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 40,
            "ACCESS_TOKEN_SECONDS": 1,
            "DATABASE": str(tmp_path / "s.db"),
        }
    )
    from conftest import seed_tree

    seed_tree(app.config["DATABASE"])
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
    ).get_json()["access_token"]
    time.sleep(2.1)
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "TOKEN_EXPIRED"
    )


def test_refresh_token_is_not_an_access_token(client, auth):
    refresh = auth.tokens("admin")["refresh_token"]
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {refresh}"}),
        401,
        "TOKEN_INVALID",
    )


def test_access_token_cannot_refresh(client, auth):
    assert_problem(
        client.post("/api/v1/auth/refresh", headers=auth.headers("admin")), 401, "TOKEN_INVALID"
    )


def _refresh(client, token):
    return client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})


def test_refresh_rotates(client, auth):
    first = auth.tokens("worker")
    resp = _refresh(client, first["refresh_token"])
    assert resp.status_code == 200
    second = resp.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["role"] == "grid_worker"
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 200
    )
    # the new refresh token works once more
    assert _refresh(client, second["refresh_token"]).status_code == 200


@pytest.fixture
def short_window(app):
    """The same database served with a 1-second refresh reuse window (test config)."""
    config = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE")}
    return create_app({**config, "REFRESH_REUSE_SECONDS": 1}).test_client()


def _me(client, access):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})


def test_refresh_reuse_window_defaults_to_60_seconds(app):
    assert app.config["REFRESH_REUSE_SECONDS"] == 60


def test_refresh_retry_inside_window_answers_a_new_pair_and_keeps_the_first(client, auth):
    """A phone whose refresh answer was lost sends the same refresh token again."""
    first = auth.tokens("worker")
    lost = _refresh(client, first["refresh_token"]).get_json()
    resp = _refresh(client, first["refresh_token"])
    assert resp.status_code == 200, resp.get_json()
    retry = resp.get_json()
    assert retry["refresh_token"] not in (first["refresh_token"], lost["refresh_token"])
    assert retry["user"]["user"]["username"] == "worker"
    # both pairs work: their access tokens, and each refresh token once more
    for pair in (lost, retry):
        assert _me(client, pair["access_token"]).status_code == 200
    for pair in (lost, retry):
        assert _refresh(client, pair["refresh_token"]).status_code == 200


def test_reuse_after_the_window_revokes_everything(short_window):
    client = short_window
    first = client.post(
        "/api/v1/auth/login", json={"username": "worker", "password": PASSWORD}
    ).get_json()
    second = _refresh(client, first["refresh_token"]).get_json()
    time.sleep(1.3)
    assert_problem(_refresh(client, first["refresh_token"]), 401, "TOKEN_REVOKED")
    # every token of the user is dead now, including the ones from the rotation
    for token in (second["access_token"], first["access_token"]):
        assert_problem(_me(client, token), 401, "TOKEN_REVOKED")
    assert_problem(_refresh(client, second["refresh_token"]), 401, "TOKEN_REVOKED")
    # a fresh login works again
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "worker", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_refresh_of_a_logged_out_pair_is_401(client, auth):
    tokens = auth.tokens("secretary")
    client.post("/api/v1/auth/logout", headers=auth.headers("secretary"))
    assert_problem(_refresh(client, tokens["refresh_token"]), 401, "TOKEN_REVOKED")


def test_logout_of_the_rotated_pair_ends_the_retry_window(client, auth):
    """Rotated A → B, B logged out: retrying A must not bring the session back."""
    first = auth.tokens("secretary")
    second = _refresh(client, first["refresh_token"]).get_json()
    resp = client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert resp.status_code == 204
    assert_problem(_refresh(client, first["refresh_token"]), 401, "TOKEN_REVOKED")
    assert_problem(_refresh(client, second["refresh_token"]), 401, "TOKEN_REVOKED")


def test_refresh_is_audited_with_the_login_device(app, client, auth):
    tokens = auth.login("worker", device_id="phone-42").get_json()
    _refresh(client, tokens["refresh_token"])
    _refresh(client, tokens["refresh_token"])  # the retry
    from survey_api.db import connect

    conn = connect(app.config["DATABASE"])
    rows = conn.execute(
        "SELECT details FROM audit_log WHERE action = 'auth.refresh' ORDER BY id"
    ).fetchall()
    conn.close()
    details = [json.loads(r[0]) for r in rows]
    assert details == [
        {"device_id": "phone-42", "retry": False},
        {"device_id": "phone-42", "retry": True},
    ]


def test_concurrent_refreshes_of_one_token_on_gunicorn(live_instance):
    """The first use and two retries of one refresh token at once, on 3 gunicorn workers:
    every answer is a 200 pair (no 500, no 'database is locked'), and every pair works."""
    with live_server.running(live_instance, workers=3) as base:
        api = base + "/api/v1"
        for attempt in range(3):
            login = requests.post(
                api + "/auth/login", json={"username": "worker", "password": PASSWORD}, timeout=30
            ).json()
            barrier = threading.Barrier(3)

            def refresh_once(token=login["refresh_token"], barrier=barrier):
                barrier.wait()
                return requests.post(
                    api + "/auth/refresh", timeout=30, headers={"Authorization": f"Bearer {token}"}
                )

            with ThreadPoolExecutor(3) as pool:
                answers = list(pool.map(lambda _i: refresh_once(), range(3)))
            assert [r.status_code for r in answers] == [200] * 3, [
                (r.status_code, r.text[:200]) for r in answers
            ]
            for r in answers:
                me = requests.get(
                    api + "/me",
                    timeout=30,
                    headers={"Authorization": f"Bearer {r.json()['access_token']}"},
                )
                assert me.status_code == 200, (attempt, me.text)


def test_logout_revokes_access_and_refresh(client, auth):
    tokens = auth.tokens("secretary")
    resp = client.post("/api/v1/auth/logout", headers=auth.headers("secretary"))
    assert resp.status_code == 204
    assert_problem(
        client.get("/api/v1/me", headers=auth.headers("secretary")), 401, "TOKEN_REVOKED"
    )
    assert_problem(_refresh(client, tokens["refresh_token"]), 401, "TOKEN_REVOKED")


def test_logout_leaves_other_sessions(client, auth):
    other = auth.login("secretary").get_json()
    client.post("/api/v1/auth/logout", headers=auth.headers("secretary"))
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {other['access_token']}"}
        ).status_code
        == 200
    )


def test_revocation_survives_restart(app, client, auth):
    headers = auth.headers("secretary")
    client.post("/api/v1/auth/logout", headers=headers)
    restarted = create_app({k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE")})
    assert_problem(restarted.test_client().get("/api/v1/me", headers=headers), 401, "TOKEN_REVOKED")


def test_deactivated_user_token_rejected(client, auth, user_ids):
    headers = auth.headers("worker")
    resp = client.patch(
        f"/api/v1/users/{user_ids['worker']}", json={"active": False}, headers=auth.headers("admin")
    )
    assert resp.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "TOKEN_REVOKED")
    assert_problem(auth.login("worker"), 401, "INVALID_CREDENTIALS")


def test_rate_limit_per_username(auth):
    for _ in range(10):
        assert auth.login("secretary", "bad-password").status_code == 401
    body = assert_problem(auth.login("secretary"), 429, "RATE_LIMITED")
    assert "try again" in body["detail"]
    resp = auth.login("secretary")
    assert int(resp.headers["Retry-After"]) > 0
    # another user behind the same address is not affected
    assert auth.login("worker").status_code == 200


def test_ten_typos_do_not_lock_out_the_office_behind_one_address(client):
    """Appendix B: one person's typos lock out that username, not the address."""
    env = {"REMOTE_ADDR": "10.1.2.3"}
    for i in range(12):
        client.post(
            "/api/v1/auth/login", json={"username": f"u{i}", "password": "nope"}, environ_base=env
        )
    resp = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}, environ_base=env
    )
    assert resp.status_code == 200, resp.get_json()


def test_rate_limit_per_address_is_100(app, client):
    env = {"REMOTE_ADDR": "10.1.2.4"}
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):  # 98 failures of 98 users already counted
        for i in range(98):
            token_store.record_login_failure(conn, f"user{i}", "10.1.2.4")
    conn.close()
    resp = client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "x"}, environ_base=env
    )
    assert_problem(resp, 401, "INVALID_CREDENTIALS")  # the 99th failure
    resp = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}, environ_base=env
    )
    assert resp.status_code == 200  # 99 failures: still open
    client.post(
        "/api/v1/auth/login", json={"username": "nobody2", "password": "x"}, environ_base=env
    )  # the 100th
    resp = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}, environ_base=env
    )
    body = assert_problem(resp, 429, "RATE_LIMITED")
    assert int(resp.headers["Retry-After"]) > 0 and "try again" in body["detail"]
    # the same username from another address is not affected
    assert (
        client.post(
            "/api/v1/auth/login",
            json={"username": "admin", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.1.2.5"},
        ).status_code
        == 200
    )


def test_login_limits_are_configurable(tmp_path):
    from conftest import seed_tree

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 40,
            "DATABASE": str(tmp_path / "s.db"),
            "LOGIN_MAX_FAILURES": 50,
            "LOGIN_MAX_FAILURES_PER_ADDRESS": 3,
        }
    )
    seed_tree(app.config["DATABASE"])
    client = app.test_client()
    for i in range(3):
        client.post("/api/v1/auth/login", json={"username": f"u{i}", "password": "x"})
    assert_problem(
        client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}),
        429,
        "RATE_LIMITED",
    )


def test_successful_logins_do_not_count(auth):
    for _ in range(12):
        assert auth.login("street").status_code == 200


def test_rate_limit_shared_across_app_instances(app):
    """Two app instances (as two gunicorn workers) share one database and one count."""
    other = create_app({k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE")})
    clients = [app.test_client(), other.test_client()]
    for i in range(10):
        clients[i % 2].post(
            "/api/v1/auth/login", json={"username": "district", "password": "bad-password"}
        )
    for c in clients:
        resp = c.post("/api/v1/auth/login", json={"username": "district", "password": PASSWORD})
        assert_problem(resp, 429, "RATE_LIMITED")


def test_login_audited_with_device(app, auth):
    auth.login("worker", device_id="phone-77")
    from survey_api.db import connect

    conn = connect(app.config["DATABASE"])
    row = conn.execute("SELECT details FROM audit_log WHERE action = 'auth.login'").fetchone()
    assert "phone-77" in row[0]


def test_scope_change_takes_effect_without_revoking(client, auth, user_ids):
    headers = auth.headers("worker")
    resp = client.patch(
        f"/api/v1/users/{user_ids['worker']}",
        json={"unit_codes": ["370303001001-02"]},
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 200
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert [u["code"] for u in me.get_json()["units"]] == ["370303001001-02"]
