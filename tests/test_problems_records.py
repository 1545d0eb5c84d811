"""Problems over REST: reporting, numbering, reads with events, list filters, scope."""

from conftest import assert_problem
from sync_helpers import GRID, OTHER_GRID, problem_data, uid

from survey_api.db import connect, write_tx

BASE = "/api/v1/problems"


def report(client, auth, user="worker", **extra):
    resp = client.post(BASE, json=problem_data(**extra), headers=auth.headers(user))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_report_starts_reported_at_grid_level_with_number_and_event(client, auth, user_ids):
    p = report(client, auth)
    assert p["status"] == "reported" and p["level"] == "grid" and p["version"] == 1
    assert p["responsible_unit"] == GRID and p["due_estimated"] is False
    year = p["reported_at"][:4]
    assert p["number"] == f"370303001001-{year}-0001"
    assert report(client, auth)["number"] == f"370303001001-{year}-0002"
    assert [e["action"] for e in p["events"]] == ["report"]
    assert p["events"][0]["actor_id"] == user_ids["worker"]
    assert p["photos_missing"] == []


def test_report_validation(client, auth):
    h = auth.headers("worker")
    for bad in (
        {"category": "safety"},
        {"category": "nope.nope"},
        {"description": ""},
        {"urgency": "later"},
        {"source": "x"},
        {"status": "closed"},
        {"number": "1"},
        {"due_at": "2026-12-01T00:00:00Z"},
        {"events": []},
        {"level": "street"},
        {"description": "x" * 2001},
    ):
        assert_problem(
            client.post(BASE, json=problem_data(**bad), headers=h), 422, "VALIDATION_ERROR"
        )
    assert_problem(client.post(BASE, json={"description": "x"}, headers=h), 422, "VALIDATION_ERROR")


def test_report_outside_scope_is_403_and_read_outside_scope_404(client, auth):
    assert_problem(
        client.post(BASE, json=problem_data(grid=OTHER_GRID), headers=auth.headers("worker")),
        403,
        "OUT_OF_SCOPE",
    )
    p = report(client, auth)
    assert_problem(
        client.get(f"{BASE}/{p['id']}", headers=auth.headers("worker3")), 404, "NOT_FOUND"
    )
    assert_problem(client.get(f"{BASE}/nope", headers=auth.headers("worker")), 404, "NOT_FOUND")
    resp = client.get(f"{BASE}/{p['id']}", headers=auth.headers("street"))
    assert resp.status_code == 200 and resp.headers["ETag"] == '"1"'


def test_same_id_same_data_200_other_data_409(client, auth):
    pid = uid()
    h = auth.headers("worker")
    assert client.post(BASE, json=problem_data(id=pid), headers=h).status_code == 201
    assert client.post(BASE, json=problem_data(id=pid), headers=h).status_code == 200
    assert_problem(
        client.post(BASE, json=problem_data(id=pid, description="other"), headers=h),
        409,
        "ID_REUSED",
    )


def test_list_filters(client, app, auth):
    a = report(client, auth)
    b = report(client, auth, category="heating.no_heat")
    c = report(client, auth, user="worker3", grid=OTHER_GRID)
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        conn.execute(
            "UPDATE problems SET status = 'accepted', due_at = '2020-01-01T00:00:00+00:00'"
            " WHERE id = ?",
            (a["id"],),
        )
    conn.close()
    h = auth.headers("street")

    def got(query):
        resp = client.get(BASE + query, headers=h)
        assert resp.status_code == 200, resp.get_json()
        return sorted(p["id"] for p in resp.get_json()["items"])

    assert got("") == sorted([a["id"], b["id"], c["id"]])
    assert got("?unit=370303001001") == sorted([a["id"], b["id"]])
    assert got("?status=accepted") == [a["id"]]
    assert got("?category=heating") == [b["id"]]
    assert got("?category=heating.no_heat") == [b["id"]]
    assert got("?overdue=true") == [a["id"]]
    assert a["id"] not in got("?overdue=false")
    assert got("?from=2000-01-01&to=2000-01-02") == []
    assert_problem(client.get(BASE + "?unit=370303002001", headers=h), 403, "OUT_OF_SCOPE")
    assert_problem(client.get(BASE + "?status=nope", headers=h), 422, "VALIDATION_ERROR")
    page = client.get(BASE + "?limit=2", headers=h).get_json()
    rest = client.get(BASE + f"?limit=2&cursor={page['next_cursor']}", headers=h).get_json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    assert client.get(BASE, headers=auth.headers("worker2")).get_json()["items"] == []


def test_due_soon_filter(client, app, auth):
    from datetime import UTC, datetime, timedelta

    soon, later = report(client, auth), report(client, auth)
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        for pid, hours in ((soon["id"], 2), (later["id"], 24 * 10)):
            due = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="microseconds")
            conn.execute(
                "UPDATE problems SET status = 'accepted', due_at = ? WHERE id = ?", (due, pid)
            )
    conn.close()
    items = client.get(BASE + "?due_soon=true", headers=auth.headers("secretary")).get_json()[
        "items"
    ]
    assert [p["id"] for p in items] == [soon["id"]]


def test_report_on_a_deleted_household_is_410_gone(client, auth):
    """A deleted household reads as 410 GONE: a problem naming it is refused, as a visit is."""
    h = auth.headers("worker")
    from sync_helpers import household_data

    hid = client.post("/api/v1/households", json=household_data(), headers=h).get_json()["id"]
    assert (
        client.delete(f"/api/v1/households/{hid}", headers={**h, "If-Match": "1"}).status_code
        == 204
    )
    body = assert_problem(
        client.post(BASE, json=problem_data(household_id=hid), headers=h), 410, "GONE"
    )
    assert "household_id" in body["errors"]
    assert client.get(BASE, headers=h).get_json()["items"] == []
