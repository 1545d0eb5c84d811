"""The unit tree: reads within scope, writes by admin only."""

import pytest
from conftest import assert_problem

ROLES_BY_USER = ["admin", "district", "street", "secretary", "worker"]

# username → number of units it sees (its subtree)
VISIBLE = {"admin": 10, "district": 10, "street": 6, "secretary": 3, "worker": 1}


@pytest.mark.parametrize("username", ROLES_BY_USER)
def test_list_units_in_scope(client, auth, username):
    resp = client.get("/api/v1/units?limit=1000", headers=auth.headers(username))
    assert resp.status_code == 200
    assert len(resp.get_json()["items"]) == VISIBLE[username]


def test_list_units_paginates(client, auth):
    seen, cursor = [], None
    while True:
        url = "/api/v1/units?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=auth.headers("admin")).get_json()
        seen += [u["code"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10 and seen == sorted(seen)


def test_list_units_filters(client, auth):
    body = client.get("/api/v1/units?level=grid", headers=auth.headers("street")).get_json()
    assert [u["code"] for u in body["items"]] == [
        "370303001001-01",
        "370303001001-02",
        "370303001002-01",
    ]
    body = client.get("/api/v1/units?parent=370303001001", headers=auth.headers("admin")).get_json()
    assert len(body["items"]) == 2


@pytest.mark.parametrize(
    "username,parent,status,code",
    [
        ("secretary", "370303001002", 403, "OUT_OF_SCOPE"),
        ("worker", "370303001001", 403, "OUT_OF_SCOPE"),
        ("street2", "370303001000", 403, "OUT_OF_SCOPE"),
        ("secretary", "999999", 404, "NOT_FOUND"),
        ("admin", "999999", 404, "NOT_FOUND"),
    ],
)
def test_list_units_parent_outside_scope(client, auth, username, parent, status, code):
    """Appendix A: a unit outside scope named in a list → 403 OUT_OF_SCOPE."""
    resp = client.get(f"/api/v1/units?parent={parent}", headers=auth.headers(username))
    assert_problem(resp, status, code)
    body = client.get(
        "/api/v1/units?parent=370303001001", headers=auth.headers("secretary")
    ).get_json()
    assert [u["code"] for u in body["items"]] == ["370303001001-01", "370303001001-02"]


@pytest.mark.parametrize(
    "username,code,status",
    [
        ("worker", "370303001001-01", 200),
        ("worker", "370303001001-02", 404),
        ("worker", "370303001001", 404),
        ("secretary", "370303001001-02", 200),
        ("secretary", "370303001002", 404),
        ("street", "370303001002-01", 200),
        ("street", "370303002001", 404),
        ("district", "370303002001-01", 200),
        ("admin", "370303", 200),
        ("admin", "999999", 404),
    ],
)
def test_get_unit_scope(client, auth, username, code, status):
    resp = client.get(f"/api/v1/units/{code}", headers=auth.headers(username))
    assert resp.status_code == status
    if status == 404:
        assert_problem(resp, 404, "NOT_FOUND")
    else:
        assert resp.get_json()["code"] == code


def test_admin_creates_units_down_the_tree(client, auth):
    h = auth.headers("admin")
    resp = client.post(
        "/api/v1/units",
        headers=h,
        json={
            "code": "370303001003",
            "name": "新社区",
            "level": "community",
            "parent_code": "370303001000",
        },
    )
    assert resp.status_code == 201
    assert resp.headers["Location"].endswith("/api/v1/units/370303001003")
    resp = client.post(
        "/api/v1/units",
        headers=h,
        json={
            "code": "370303001003-01",
            "name": "一网格",
            "level": "grid",
            "parent_code": "370303001003",
        },
    )
    assert resp.status_code == 201
    # the street admin sees the new grid at once
    assert (
        client.get("/api/v1/units/370303001003-01", headers=auth.headers("street")).status_code
        == 200
    )


@pytest.mark.parametrize(
    "payload,field",
    [
        (
            {"code": "370303001000", "name": "dup", "level": "street", "parent_code": "370303"},
            "code",
        ),
        ({"code": "370303009000", "name": "x", "level": "street"}, "parent_code"),
        (
            {"code": "370303009000", "name": "x", "level": "street", "parent_code": "370303001001"},
            "parent_code",
        ),
        (
            {
                "code": "370303001001-09",
                "name": "x",
                "level": "grid",
                "parent_code": "370303001000",
            },
            "parent_code",
        ),
        ({"code": "999-01", "name": "x", "level": "grid", "parent_code": "370303001001"}, "code"),
        ({"code": "1", "name": "x", "level": "district", "parent_code": "370303"}, "parent_code"),
    ],
)
def test_create_unit_invalid(client, auth, payload, field):
    body = assert_problem(
        client.post("/api/v1/units", json=payload, headers=auth.headers("admin")),
        422,
        "VALIDATION_ERROR",
    )
    assert field in body["errors"]


@pytest.mark.parametrize("username", ["district", "street", "secretary", "worker"])
def test_only_admin_writes_units(client, auth, username):
    h = auth.headers(username)
    assert_problem(
        client.post(
            "/api/v1/units",
            headers=h,
            json={
                "code": "370303001009",
                "name": "x",
                "level": "community",
                "parent_code": "370303001000",
            },
        ),
        403,
        "FORBIDDEN",
    )
    assert_problem(
        client.patch("/api/v1/units/370303001001-01", headers=h, json={"name": "y"}),
        403,
        "FORBIDDEN",
    )


def test_admin_renames_and_moves_unit(client, auth):
    h = auth.headers("admin")
    resp = client.patch(
        "/api/v1/units/370303001002",
        headers=h,
        json={"name": "华光新社区", "parent_code": "370303002000"},
    )
    assert resp.status_code == 200
    assert resp.get_json() == {
        "code": "370303001002",
        "name": "华光新社区",
        "level": "community",
        "parent_code": "370303002000",
    }
    # its grid moved with it: street2 sees it now, street does not
    assert (
        client.get("/api/v1/units/370303001002-01", headers=auth.headers("street2")).status_code
        == 200
    )
    assert (
        client.get("/api/v1/units/370303001002-01", headers=auth.headers("street")).status_code
        == 404
    )


def test_patch_unknown_unit_404(client, auth):
    assert_problem(
        client.patch("/api/v1/units/123", json={"name": "x"}, headers=auth.headers("admin")),
        404,
        "NOT_FOUND",
    )


def test_unit_writes_audited(app, client, auth):
    client.patch("/api/v1/units/370303001001", json={"name": "杏园"}, headers=auth.headers("admin"))
    from survey_api.db import connect

    rows = (
        connect(app.config["DATABASE"])
        .execute("SELECT target FROM audit_log WHERE action = 'unit.update'")
        .fetchall()
    )
    assert [r[0] for r in rows] == ["370303001001"]
