from conftest import assert_problem


def test_login_and_me(client, auth):
    resp = auth.login("secretary", device_id="phone-1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["user"]["role"] == "secretary"
    me = client.get("/api/v1/me", headers=auth.headers("secretary")).get_json()
    assert me["units"] == [{"code": "370303001001", "name": "杏园社区", "level": "community"}]


def test_openapi_public(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert "/api/v1/auth/login" in resp.get_json()["paths"]


def test_garbage_token(client):
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer xx"}), 401,
                   "TOKEN_INVALID")
