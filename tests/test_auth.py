"""Login, refresh rotation and reuse detection, logout, revocation, rate limiting."""

import time

import jwt as pyjwt
from conftest import PASSWORD, assert_problem

from survey_api import create_app


def test_login_returns_tokens_and_me_body(auth):
    resp = auth.login("secretary", device_id="phone-1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]
    assert body["user"] == {
        "user": {"id": body["user"]["user"]["id"], "username": "secretary",
                 "display_name": "Secretary"},
        "role": "secretary",
        "units": [{"code": "370303001001", "name": "杏园社区", "level": "community"}],
    }


def test_me_matches_login_user(client, auth):
    me = client.get("/api/v1/me", headers=auth.headers("worker"))
    assert me.status_code == 200
    assert me.get_json() == auth.tokens("worker")["user"]


def test_token_identity_is_a_string(app, auth):
    payload = pyjwt.decode(auth.tokens("admin")["access_token"],
                           app.config["JWT_SECRET_KEY"], algorithms=["HS256"])
    assert isinstance(payload["sub"], str)


def test_wrong_password(auth):
    assert_problem(auth.login("secretary", "wrong-password"), 401, "INVALID_CREDENTIALS")


def test_unknown_user_same_answer(auth):
    assert_problem(auth.login("nobody", "wrong-password"), 401, "INVALID_CREDENTIALS")


def test_login_validation(client):
    assert_problem(client.post("/api/v1/auth/login", json={"username": "x"}), 422,
                   "VALIDATION_ERROR")
    body = assert_problem(client.post("/api/v1/auth/login",
                                      json={"username": "x", "password": "y", "extra": 1}),
                          422, "VALIDATION_ERROR")
    assert "extra" in body["errors"]


def test_missing_token(client):
    assert_problem(client.get("/api/v1/me"), 401, "TOKEN_MISSING")


def test_garbage_token_is_401_not_422(client):
    for value in ("Bearer garbage", "Bearer a.b.c", "Token abc", "Bearer "):
        resp = client.get("/api/v1/me", headers={"Authorization": value})
        assert resp.status_code == 401, value
        assert resp.get_json()["code"] in ("TOKEN_INVALID", "TOKEN_MISSING")


def test_token_signed_with_other_key(client, user_ids):
    forged = pyjwt.encode({"sub": user_ids["admin"], "type": "access", "jti": "x", "gen": 0,
                           "exp": int(time.time()) + 60}, "another-key-another-key-another-key",
                          algorithm="HS256")
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}),
                   401, "TOKEN_INVALID")


def test_expired_token(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "ACCESS_TOKEN_SECONDS": 1,
                      "DATABASE": str(tmp_path / "s.db")})
    from conftest import seed_tree

    seed_tree(app.config["DATABASE"])
    client = app.test_client()
    token = client.post("/api/v1/auth/login",
                        json={"username": "admin", "password": PASSWORD}).get_json()["access_token"]
    time.sleep(2.1)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}),
                   401, "TOKEN_EXPIRED")


def test_refresh_token_is_not_an_access_token(client, auth):
    refresh = auth.tokens("admin")["refresh_token"]
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {refresh}"}),
                   401, "TOKEN_INVALID")


def test_access_token_cannot_refresh(client, auth):
    assert_problem(client.post("/api/v1/auth/refresh", headers=auth.headers("admin")),
                   401, "TOKEN_INVALID")


def _refresh(client, token):
    return client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})


def test_refresh_rotates(client, auth):
    first = auth.tokens("worker")
    resp = _refresh(client, first["refresh_token"])
    assert resp.status_code == 200
    second = resp.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["role"] == "grid_worker"
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {second['access_token']}"}).status_code == 200
    # the new refresh token works once more
    assert _refresh(client, second["refresh_token"]).status_code == 200


def test_reusing_rotated_refresh_token_revokes_everything(client, auth):
    first = auth.tokens("worker")
    second = _refresh(client, first["refresh_token"]).get_json()
    assert_problem(_refresh(client, first["refresh_token"]), 401, "TOKEN_REVOKED")
    # every token of the user is dead now, including the ones from the rotation
    for token in (second["access_token"], first["access_token"]):
        assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}),
                       401, "TOKEN_REVOKED")
    assert_problem(_refresh(client, second["refresh_token"]), 401, "TOKEN_REVOKED")
    # a fresh login works again
    assert auth.login("worker").status_code == 200


def test_logout_revokes_access_and_refresh(client, auth):
    tokens = auth.tokens("secretary")
    resp = client.post("/api/v1/auth/logout", headers=auth.headers("secretary"))
    assert resp.status_code == 204
    assert_problem(client.get("/api/v1/me", headers=auth.headers("secretary")), 401,
                   "TOKEN_REVOKED")
    assert_problem(_refresh(client, tokens["refresh_token"]), 401, "TOKEN_REVOKED")


def test_logout_leaves_other_sessions(client, auth):
    other = auth.login("secretary").get_json()
    client.post("/api/v1/auth/logout", headers=auth.headers("secretary"))
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {other['access_token']}"}).status_code == 200


def test_revocation_survives_restart(app, client, auth):
    headers = auth.headers("secretary")
    client.post("/api/v1/auth/logout", headers=headers)
    restarted = create_app({k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE")})
    assert_problem(restarted.test_client().get("/api/v1/me", headers=headers), 401,
                   "TOKEN_REVOKED")


def test_deactivated_user_token_rejected(client, auth, user_ids):
    headers = auth.headers("worker")
    resp = client.patch(f"/api/v1/users/{user_ids['worker']}", json={"active": False},
                        headers=auth.headers("admin"))
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
    # another user from another address is not affected
    resp = auth.client.post("/api/v1/auth/login",
                            json={"username": "worker", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert resp.status_code == 200


def test_rate_limit_per_address(client):
    env = {"REMOTE_ADDR": "10.1.2.3"}
    for i in range(10):
        client.post("/api/v1/auth/login", json={"username": f"u{i}", "password": "nope"},
                    environ_base=env)
    resp = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD},
                       environ_base=env)
    assert_problem(resp, 429, "RATE_LIMITED")


def test_successful_logins_do_not_count(auth):
    for _ in range(12):
        assert auth.login("street").status_code == 200


def test_rate_limit_shared_across_app_instances(app):
    """Two app instances (as two gunicorn workers) share one database and one count."""
    other = create_app({k: app.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE")})
    clients = [app.test_client(), other.test_client()]
    for i in range(10):
        clients[i % 2].post("/api/v1/auth/login",
                            json={"username": "district", "password": "bad-password"})
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
    resp = client.patch(f"/api/v1/users/{user_ids['worker']}",
                        json={"unit_codes": ["370303001001-02"]}, headers=auth.headers("admin"))
    assert resp.status_code == 200
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert [u["code"] for u in me.get_json()["units"]] == ["370303001001-02"]
