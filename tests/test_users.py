"""User management: admin everything, secretaries their community's grid workers."""

import pytest
from conftest import assert_problem


def _new(role="grid_worker", units=("370303001001-02",), username="newbie", **extra):
    body = {
        "username": username,
        "password": "long-enough-1",
        "role": role,
        "unit_codes": list(units),
        **extra,
    }
    if role == "admin":
        body.pop("unit_codes")
    return body


def test_admin_creates_every_role(client, auth):
    h = auth.headers("admin")
    cases = [
        ("grid_worker", ["370303001001-01", "370303001001-02"]),
        ("secretary", ["370303001002"]),
        ("street_admin", ["370303002000"]),
        ("district_admin", ["370303"]),
        ("admin", []),
    ]
    for i, (role, units) in enumerate(cases):
        resp = client.post("/api/v1/users", headers=h, json=_new(role, units, f"user{i}"))
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert body["role"] == role and body["unit_codes"] == sorted(units)
        assert "password" not in body and "password_hash" not in body
        assert resp.headers["Location"].endswith(body["id"])
        assert auth.login(f"user{i}", "long-enough-1").status_code == 200


def test_unit_code_singular_accepted(client, auth):
    resp = client.post(
        "/api/v1/users",
        headers=auth.headers("admin"),
        json={
            "username": "sec9",
            "password": "long-enough-1",
            "role": "secretary",
            "unit_code": "370303002001",
        },
    )
    assert resp.status_code == 201
    assert resp.get_json()["unit_codes"] == ["370303002001"]


@pytest.mark.parametrize(
    "payload,field",
    [
        (_new(units=[]), "unit_codes"),
        (_new(units=["370303001001"]), "unit_codes"),
        (_new(units=["999"]), "unit_codes"),
        (_new("secretary", ["370303001001", "370303001002"]), "unit_codes"),
        ({**_new("admin"), "unit_codes": ["370303"]}, "unit_codes"),
        (_new(username="secretary"), "username"),
        ({**_new(), "password": "short"}, "password"),
        ({**_new(), "role": "king"}, "role"),
        ({**_new(), "unit_code": "370303001001-01"}, "unit_code"),
    ],
)
def test_create_user_invalid(client, auth, payload, field):
    body = assert_problem(
        client.post("/api/v1/users", json=payload, headers=auth.headers("admin")),
        422,
        "VALIDATION_ERROR",
    )
    assert field in body["errors"], body


def test_secretary_manages_own_grid_workers(client, auth, user_ids):
    h = auth.headers("secretary")
    resp = client.post("/api/v1/users", headers=h, json=_new())
    assert resp.status_code == 201
    listed = client.get("/api/v1/users", headers=h).get_json()["items"]
    assert {u["username"] for u in listed} == {"worker", "worker2", "newbie"}
    resp = client.patch(
        f"/api/v1/users/{user_ids['worker']}",
        headers=h,
        json={"display_name": "王网格", "unit_codes": ["370303001001-02"]},
    )
    assert resp.status_code == 200
    assert resp.get_json()["display_name"] == "王网格"


@pytest.mark.parametrize(
    "payload,status,code",
    [
        (_new(units=["370303001002-01"]), 403, "OUT_OF_SCOPE"),
        (_new("secretary", ["370303001001"]), 403, "FORBIDDEN"),
        (_new("admin"), 403, "FORBIDDEN"),
    ],
)
def test_secretary_refused_outside_its_rights(client, auth, payload, status, code):
    assert_problem(
        client.post("/api/v1/users", json=payload, headers=auth.headers("secretary")), status, code
    )


def test_secretary_cannot_see_other_community_users(client, auth, user_ids):
    h = auth.headers("secretary")
    for name in ("worker3", "secretary2", "street", "admin"):
        assert_problem(
            client.patch(f"/api/v1/users/{user_ids[name]}", json={"display_name": "x"}, headers=h),
            404,
            "NOT_FOUND",
        )
        assert_problem(client.get(f"/api/v1/users/{user_ids[name]}", headers=h), 404, "NOT_FOUND")


def test_secretary_cannot_move_worker_out_of_scope(client, auth, user_ids):
    assert_problem(
        client.patch(
            f"/api/v1/users/{user_ids['worker']}",
            json={"unit_codes": ["370303001002-01"]},
            headers=auth.headers("secretary"),
        ),
        403,
        "OUT_OF_SCOPE",
    )


def test_street_admin_sees_its_street(client, auth):
    listed = client.get("/api/v1/users?limit=1000", headers=auth.headers("street")).get_json()
    assert {u["username"] for u in listed["items"]} == {
        "secretary",
        "secretary2",
        "worker",
        "worker2",
        "worker3",
    }


def test_grid_worker_forbidden(client, auth, user_ids):
    h = auth.headers("worker")
    assert_problem(client.get("/api/v1/users", headers=h), 403, "FORBIDDEN")
    assert_problem(client.post("/api/v1/users", json=_new(), headers=h), 403, "FORBIDDEN")
    assert_problem(
        client.patch(f"/api/v1/users/{user_ids['worker']}", json={"display_name": "x"}, headers=h),
        403,
        "FORBIDDEN",
    )


def test_list_users_role_filter_and_pages(client, auth):
    body = client.get(
        "/api/v1/users?role=grid_worker&limit=2", headers=auth.headers("admin")
    ).get_json()
    assert [u["username"] for u in body["items"]] == ["worker", "worker2"]
    more = client.get(
        f"/api/v1/users?role=grid_worker&limit=2&cursor={body['next_cursor']}",
        headers=auth.headers("admin"),
    ).get_json()
    assert [u["username"] for u in more["items"]] == ["worker3"]
    assert more["next_cursor"] is None


def test_password_change_revokes_tokens(client, auth, user_ids):
    old = auth.headers("worker")
    resp = client.patch(
        f"/api/v1/users/{user_ids['worker']}",
        json={"password": "brand-new-pass"},
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=old), 401, "TOKEN_REVOKED")
    assert auth.login("worker", "brand-new-pass").status_code == 200


def test_patch_unknown_field_422(client, auth, user_ids):
    assert_problem(
        client.patch(
            f"/api/v1/users/{user_ids['worker']}",
            json={"username": "z"},
            headers=auth.headers("admin"),
        ),
        422,
        "VALIDATION_ERROR",
    )
