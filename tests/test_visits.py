"""Visits over REST: append-only creation, reads, filters, scope, photos_missing."""

import hashlib

from conftest import assert_problem
from sync_helpers import OTHER_GRID, household_data, uid, visit_data

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def household(client, auth, user="worker", **extra):
    resp = client.post(
        "/api/v1/households", json=household_data(**extra), headers=auth.headers(user)
    )
    assert resp.status_code == 201
    return resp.get_json()["id"]


def test_create_visit_sets_visitor_grid_and_location(client, auth, user_ids):
    hid = household(client, auth)
    vid = uid()
    resp = client.post(
        "/api/v1/visits",
        json=visit_data(hid, id=vid, location={"lat": 36.8, "lng": 118.05, "accuracy_m": 5}),
        headers=auth.headers("worker"),
    )
    assert resp.status_code == 201 and resp.headers["Location"] == f"/api/v1/visits/{vid}"
    body = resp.get_json()
    assert body["visitor_id"] == user_ids["worker"] and body["grid_code"] == "370303001001-01"
    assert body["visited_at"] == "2026-11-27T09:00:00+08:00"
    assert body["location"] == {"lat": 36.8, "lng": 118.05, "accuracy_m": 5}
    assert client.get(f"/api/v1/visits/{vid}", headers=auth.headers("secretary")).get_json() == body


def test_visit_validation(client, auth):
    hid = household(client, auth)
    h = auth.headers("worker")
    for bad in (
        {"outcome": "maybe"},
        {"visited_at": "2026-11-27T09:00:00"},
        {"visited_at": "yesterday"},
        {"notes": "x" * 2001},
        {"visitor_id": uid()},
        {"received_at": "2026-11-27T09:00:00Z"},
        {"location": {"lat": 91, "lng": 0}},
        {"photos": ["x"]},
        {"location": {"lat": "36.8", "lng": 118.0}},
        {"location": {"lat": 36.8, "lng": True}},
        {"location": {"lat": 36.8, "lng": 118.0, "accuracy_m": "8"}},
    ):
        body = assert_problem(
            client.post("/api/v1/visits", json=visit_data(hid, **bad), headers=h),
            422,
            "VALIDATION_ERROR",
        )
        assert body["errors"], body


def test_visit_to_unknown_or_out_of_scope_household_is_404(client, auth):
    other = household(client, auth, user="worker3", grid=OTHER_GRID)
    h = auth.headers("worker")
    assert_problem(
        client.post("/api/v1/visits", json=visit_data(other), headers=h), 404, "NOT_FOUND"
    )
    assert_problem(
        client.post("/api/v1/visits", json=visit_data(uid()), headers=h), 404, "NOT_FOUND"
    )


def test_visits_are_append_only(client, auth):
    hid = household(client, auth)
    vid = client.post(
        "/api/v1/visits", json=visit_data(hid), headers=auth.headers("worker")
    ).get_json()["id"]
    for method in ("patch", "delete", "put"):
        resp = getattr(client, method)(
            f"/api/v1/visits/{vid}", json={}, headers=auth.headers("worker")
        )
        assert_problem(resp, 405, "METHOD_NOT_ALLOWED")


def test_photos_missing_until_blob_uploaded(client, auth):
    hid = household(client, auth)
    sha = hashlib.sha256(PNG).hexdigest()
    h = auth.headers("worker")
    body = client.post("/api/v1/visits", json=visit_data(hid, photos=[sha]), headers=h).get_json()
    assert body["photos_missing"] == [sha]
    resp = client.put(f"/api/v1/blobs/{sha}", data=PNG, content_type="image/png", headers=h)
    assert resp.status_code == 201
    assert client.get(f"/api/v1/visits/{body['id']}", headers=h).get_json()["photos_missing"] == []


def test_visit_list_filters_and_scope(client, auth):
    hid = household(client, auth)
    h = auth.headers("worker")
    for day in ("2026-11-01", "2026-11-10", "2026-11-20"):
        client.post(
            "/api/v1/visits", json=visit_data(hid, visited_at=f"{day}T10:00:00+08:00"), headers=h
        )
    items = client.get("/api/v1/visits", headers=h).get_json()["items"]
    assert [v["visited_at"][:10] for v in items] == ["2026-11-20", "2026-11-10", "2026-11-01"]
    got = client.get("/api/v1/visits?from=2026-11-05&to=2026-11-10", headers=h).get_json()
    assert len(got["items"]) == 1
    assert (
        len(client.get(f"/api/v1/visits?household={hid}&limit=2", headers=h).get_json()["items"])
        == 2
    )
    page1 = client.get("/api/v1/visits?limit=2", headers=h).get_json()
    page2 = client.get(
        f"/api/v1/visits?limit=2&cursor={page1['next_cursor']}", headers=h
    ).get_json()
    assert len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert client.get("/api/v1/visits", headers=auth.headers("worker3")).get_json()["items"] == []
    assert_problem(client.get(f"/api/v1/visits?grid={OTHER_GRID}", headers=h), 403, "OUT_OF_SCOPE")
    assert_problem(
        client.get(f"/api/v1/visits/{items[0]['id']}", headers=auth.headers("worker3")),
        404,
        "NOT_FOUND",
    )


def test_from_to_dates_are_shanghai_days_inclusive_and_datetimes_exact(client, auth):
    """Appendix A: from/to are YYYY-MM-DD (Asia/Shanghai, inclusive) or aware datetimes."""
    hid = household(client, auth)
    h = auth.headers("worker")
    for at in (
        "2026-11-09T23:59:59+08:00",
        "2026-11-10T00:00:00+08:00",
        "2026-11-10T23:59:59+08:00",
        "2026-11-10T16:00:00Z",
    ):
        assert (
            client.post(
                "/api/v1/visits", json=visit_data(hid, visited_at=at), headers=h
            ).status_code
            == 201
        )

    def got(query, **params):
        resp = client.get("/api/v1/visits" + query, query_string=params or None, headers=h)
        assert resp.status_code == 200, resp.get_json()
        return sorted(v["visited_at"] for v in resp.get_json()["items"])

    day = ["2026-11-10T00:00:00+08:00", "2026-11-10T23:59:59+08:00"]
    assert got("", **{"from": "2026-11-10", "to": "2026-11-10"}) == day
    assert (
        got("", **{"from": "2026-11-10T00:00:00+08:00", "to": "2026-11-10T23:59:59+08:00"}) == day
    )
    assert got("", **{"to": "2026-11-09"}) == ["2026-11-09T23:59:59+08:00"]
    assert len(got("")) == 4
    # An aware datetime written straight into the URL: its '+' arrives as a space.
    assert got("?from=2026-11-10T00:00:00+08:00&to=2026-11-10T23:59:59+08:00") == day
    for bad in ("2026-11-10T00:00:00", "2026-13-01", "yesterday"):
        assert_problem(
            client.get("/api/v1/visits", query_string={"from": bad}, headers=h),
            422,
            "VALIDATION_ERROR",
        )


def test_one_index_leads_with_household_id_and_the_household_reads_use_it(client, auth, app):
    """Migration 7 dropped visits_household: a new visit dirties one page less of a random
    index, and the reads by household (its visits, its last visit, the ledger's visits) seek
    visits_met instead of scanning."""
    from survey_api.db import connect
    from survey_api.storage import household_history

    hid = household(client, auth)
    h = auth.headers("worker")
    for day in (26, 27):
        at = f"2026-11-{day}T09:00:00+08:00"
        assert (
            client.post(
                "/api/v1/visits", json=visit_data(hid, visited_at=at), headers=h
            ).status_code
            == 201
        )
    conn = connect(app.config["DATABASE"])
    try:
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(visits)")}
        assert indexes == {"sqlite_autoindex_visits_1", "visits_grid_time", "visits_met"}
        reads = {
            "visits": (
                "SELECT id FROM visits WHERE household_id = ?"
                " ORDER BY visited_at_utc DESC, id DESC",
                (hid,),
            ),
            "last": (
                "SELECT household_id, max(visited_at_utc), outcome FROM visits"
                " WHERE household_id IN (?) GROUP BY household_id",
                (hid,),
            ),
        }
        for sql, params in reads.values():
            plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert "INDEX visits_met (household_id=?)" in plan, plan
        assert household_history.last_visits(conn, [hid])[hid]["visited_at"].startswith(
            "2026-11-27"
        )
        assert [v["visited_at"][:10] for v in household_history.visits(conn, hid)] == [
            "2026-11-27",
            "2026-11-26",
        ]
    finally:
        conn.close()
