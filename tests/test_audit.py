"""GET /api/v1/audit: admin only, filters, newest first, paging."""

import pytest
from conftest import assert_problem

from survey_api.db import connect, write_tx
from survey_api.storage import audit


@pytest.fixture
def entries(app, user_ids):
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        conn.execute("DELETE FROM audit_log")
        for i in range(5):
            audit.record(
                conn,
                actor=user_ids["secretary"],
                action="export",
                target="370303001001",
                ip="10.0.0.1",
                details={"n": i},
            )
        audit.record(conn, actor=user_ids["street"], action="unmask", target="370303001000")
    conn.close()


def test_admin_reads_newest_first_with_filters(client, auth, entries, user_ids):
    headers = auth.headers("admin")  # logging in writes its own entry
    body = client.get("/api/v1/audit?action=export", headers=headers).get_json()
    assert [i["details"]["n"] for i in body["items"]] == [4, 3, 2, 1, 0]
    item = body["items"][0]
    assert set(item) == {"id", "actor", "action", "target", "at", "ip", "details"}
    assert (item["actor"], item["target"], item["ip"]) == (
        user_ids["secretary"],
        "370303001001",
        "10.0.0.1",
    )
    by_actor = client.get(f"/api/v1/audit?actor={user_ids['street']}", headers=headers).get_json()
    assert [i["action"] for i in by_actor["items"]] == ["unmask"]
    assert (
        client.get("/api/v1/audit?from=2000-01-01&to=2000-01-02", headers=headers).get_json()[
            "items"
        ]
        == []
    )


def test_paging(client, auth, entries):
    headers = auth.headers("admin")
    first = client.get("/api/v1/audit?action=export&limit=2", headers=headers).get_json()
    assert [i["details"]["n"] for i in first["items"]] == [4, 3]
    second = client.get(
        f"/api/v1/audit?action=export&limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    assert [i["details"]["n"] for i in second["items"]] == [2, 1]
    third = client.get(
        f"/api/v1/audit?action=export&limit=2&cursor={second['next_cursor']}", headers=headers
    ).get_json()
    assert [i["details"]["n"] for i in third["items"]] == [0] and third["next_cursor"] is None


@pytest.mark.parametrize("user", ["worker", "secretary", "street", "district"])
def test_other_roles_forbidden(client, auth, entries, user):
    assert_problem(client.get("/api/v1/audit", headers=auth.headers(user)), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=1001", "cursor=bm9wZQ", "cursor=Im5vIg", "from=yesterday"]
)
def test_bad_queries(client, auth, entries, query):
    assert_problem(
        client.get(f"/api/v1/audit?{query}", headers=auth.headers("admin")), 422, "VALIDATION_ERROR"
    )


def test_needs_a_token(client):
    assert_problem(client.get("/api/v1/audit"), 401, "TOKEN_MISSING")


def test_actor_filter_takes_a_username(client, auth, entries):
    body = client.get("/api/v1/audit?actor=street", headers=auth.headers("admin")).get_json()
    assert [i["action"] for i in body["items"]] == ["unmask"]
