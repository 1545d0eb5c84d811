"""GET /sync/pull: first load, incremental changes, tombstones, revocations, cursors."""

import pytest
from conftest import assert_problem
from sync_helpers import GRID, GRID2, household_data, item, problem_data, push, uid, visit_data

from survey_api.db import connect, write_tx
from survey_api.storage import users as user_store

URL = "/api/v1/sync/pull"


def pull(client, headers, cursor=None, limit=None, **params):
    query = {k: v for k, v in (("cursor", cursor), ("limit", limit)) if v is not None}
    query.update(params)
    resp = client.get(URL, query_string=query, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert isinstance(body["next_cursor"], str)
    return body


def pull_all(client, headers, cursor=None, limit=None):
    """Follow has_more; returns (pages, last cursor)."""
    pages = []
    while True:
        body = pull(client, headers, cursor, limit)
        pages.append(body)
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return pages, cursor


def ids(pages, kind, part="upserted"):
    out = []
    for p in pages:
        out += [r["id"] if isinstance(r, dict) else r for r in p["changes"][kind][part]]
    return out


def revoked(pages, kind):
    return [i for p in pages for i in p["revoked"][kind]]


def ok(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    for r in resp.get_json()["results"]:
        assert r["status"] in ("applied", "duplicate"), r
    return resp.get_json()["results"]


def seed(client, w, grid=GRID, n=1):
    hids, vids, pids = [], [], []
    for _ in range(n):
        hid, vid, pid = uid(), uid(), uid()
        ok(
            push(
                client,
                w,
                [
                    item("household", "create", hid, household_data(grid=grid)),
                    item("visit", "create", vid, visit_data(hid, visited_at=_recent())),
                    item("problem", "create", pid, problem_data(grid=grid, household_id=hid)),
                ],
            )
        )
        hids.append(hid)
        vids.append(vid)
        pids.append(pid)
    return hids, vids, pids


def _recent(days=1):
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone(timedelta(hours=8))) - timedelta(days=days)).isoformat()


def _utc(days):
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")


def _sql(app, sql, params=()):
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        conn.execute(sql, params)
    conn.close()


def test_first_pull_carries_households_open_problems_and_recent_visits(client, app, auth):
    w = auth.headers("worker")
    hids, vids, pids = seed(client, w, n=2)
    old_visit = uid()
    ok(
        push(
            client,
            w,
            [item("visit", "create", old_visit, visit_data(hids[0], visited_at=_recent(91)))],
        )
    )
    _sql(
        app,
        "UPDATE problems SET status = 'closed', closed_at = '2020-01-01T00:00:00+00:00' "
        "WHERE id = ?",
        (pids[1],),
    )
    _, _, more = seed(client, w, n=2)
    _sql(
        app,
        "UPDATE problems SET status = 'closed', closed_at = ? WHERE id = ?",
        (_utc(days=10), more[0]),
    )
    _sql(app, "UPDATE problems SET status = 'rejected' WHERE id = ?", (more[1],))
    seed(client, auth.headers("worker3"), grid="370303001002-01")  # another worker's grid
    pages, _ = pull_all(client, w)
    assert len(ids(pages, "households")) == 4 and set(hids) <= set(ids(pages, "households"))
    assert len(ids(pages, "visits")) == 4 and set(vids) <= set(ids(pages, "visits"))
    assert sorted(ids(pages, "problems")) == sorted([pids[0], more[0]])  # open, closed 10 d ago


def test_pulled_records_equal_get_records(client, auth):
    w = auth.headers("worker")
    hids, vids, pids = seed(client, w)
    [page], _ = pull_all(client, w)
    assert (
        page["changes"]["households"]["upserted"][0]
        == client.get(f"/api/v1/households/{hids[0]}", headers=w).get_json()
    )
    assert (
        page["changes"]["visits"]["upserted"][0]
        == client.get(f"/api/v1/visits/{vids[0]}", headers=w).get_json()
    )
    problem = page["changes"]["problems"]["upserted"][0]
    assert problem == client.get(f"/api/v1/problems/{pids[0]}", headers=w).get_json()
    assert problem["events"][0]["action"] == "report"
    assert page["changes"]["households"]["upserted"][0]["head_name"] == "张三"  # worker: unmasked


def test_pull_masks_for_other_roles_unless_unmask(client, auth):
    seed(client, auth.headers("worker"))
    s = auth.headers("secretary")
    assert pull(client, s)["changes"]["households"]["upserted"][0]["head_name"] == "张*"
    assert (
        pull(client, s, unmask="true")["changes"]["households"]["upserted"][0]["head_name"]
        == "张三"
    )
    assert_problem(
        client.get(URL + "?unmask=true", headers=auth.headers("worker")), 403, "UNMASK_FORBIDDEN"
    )


def test_incremental_pull_returns_only_changes_since_cursor(client, auth):
    w = auth.headers("worker")
    seed(client, w)
    _, cursor = pull_all(client, w)
    empty = pull(client, w, cursor)
    assert empty["has_more"] is False and ids([empty], "households") == []
    hids, vids, pids = seed(client, w)
    pages, cursor2 = pull_all(client, w, cursor)
    assert ids(pages, "households") == hids and ids(pages, "visits") == vids
    assert ids(pages, "problems") == pids
    assert ids([pull(client, w, cursor2)], "households") == []


def test_limit_caps_all_kinds_and_pages_follow_has_more(client, auth):
    w = auth.headers("worker")
    hids, vids, pids = seed(client, w, n=4)  # 12 records
    pages, cursor = pull_all(client, w, limit=5)
    assert len(pages) == 3
    for p in pages:
        n = sum(len(p["changes"][k]["upserted"]) for k in ("households", "problems", "visits"))
        assert n <= 5
    assert sorted(ids(pages, "households")) == sorted(hids)
    assert sorted(ids(pages, "problems")) == sorted(pids)
    assert sorted(ids(pages, "visits")) == sorted(vids)
    more = seed(client, w, n=3)
    pages, _ = pull_all(client, w, cursor, limit=4)
    assert sorted(ids(pages, "households")) == sorted(more[0])
    assert sorted(ids(pages, "visits")) == sorted(more[1])


def test_limit_bounds_are_validated(client, auth):
    for bad in ("0", "1001", "x"):
        assert_problem(
            client.get(URL + f"?limit={bad}", headers=auth.headers("worker")),
            422,
            "VALIDATION_ERROR",
        )


def test_deleted_household_comes_back_as_tombstone(client, auth):
    w = auth.headers("worker")
    hids, _, pids = seed(client, w)
    _, cursor = pull_all(client, w)
    ok(push(client, w, [item("household", "delete", hids[0], base_version=1)]))
    pages, _ = pull_all(client, w, cursor)
    assert ids(pages, "households", "deleted") == hids
    assert ids(pages, "households") == []


def test_withdrawn_problem_comes_back_as_deleted(client, auth):
    w = auth.headers("worker")
    _, _, pids = seed(client, w)
    _, cursor = pull_all(client, w)
    ok(push(client, w, [item("problem", "delete", pids[0], base_version=1)]))
    pages, _ = pull_all(client, w, cursor)
    assert ids(pages, "problems", "deleted") == pids


def test_household_moved_to_another_grid_is_revoked(client, auth):
    w = auth.headers("worker")
    hids, _, _ = seed(client, w)
    _, cursor = pull_all(client, w)
    ok(
        push(
            client,
            auth.headers("secretary"),
            [item("household", "update", hids[0], {"grid_code": GRID2}, base_version=1)],
        )
    )
    pages, _ = pull_all(client, w, cursor)
    assert revoked(pages, "households") == hids
    other, _ = pull_all(client, auth.headers("worker2"))
    assert ids(other, "households") == hids


def test_scope_change_revokes_removed_grid_and_loads_added_grid(client, app, auth, user_ids):
    w = auth.headers("worker")
    mine = seed(client, w)
    theirs = seed(client, auth.headers("worker2"), grid=GRID2)
    _, cursor = pull_all(client, w)
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        user_store.set_units(conn, user_ids["worker"], [GRID2])
    conn.close()
    pages, cursor = pull_all(client, w, cursor)
    assert sorted(revoked(pages, "households")) == mine[0]
    assert sorted(revoked(pages, "problems")) == mine[2]
    assert ids(pages, "households") == theirs[0] and ids(pages, "problems") == theirs[2]
    assert ids(pages, "visits") == theirs[1]
    # and back: a scope change never expires the cursor
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        user_store.set_units(conn, user_ids["worker"], [GRID, GRID2])
    conn.close()
    pages, _ = pull_all(client, w, cursor)
    assert ids(pages, "households") == mine[0] and revoked(pages, "households") == []


@pytest.mark.parametrize("cursor", ["garbage", "a.b", "", "eyJ4IjoxfQ.AAAA"])
def test_malformed_cursor_is_410_cursor_expired(client, auth, cursor):
    assert_problem(
        client.get(URL, query_string={"cursor": cursor}, headers=auth.headers("worker")),
        410,
        "CURSOR_EXPIRED",
    )


def test_another_users_cursor_is_410(client, auth):
    cursor = pull(client, auth.headers("worker"))["next_cursor"]
    assert_problem(
        client.get(URL, query_string={"cursor": cursor}, headers=auth.headers("worker2")),
        410,
        "CURSOR_EXPIRED",
    )


def test_another_databases_cursor_is_410(client, app, auth):
    cursor = pull(client, auth.headers("worker"))["next_cursor"]
    _sql(app, "UPDATE meta SET value = 'another' WHERE key = 'database_id'")
    assert_problem(
        client.get(URL, query_string={"cursor": cursor}, headers=auth.headers("worker")),
        410,
        "CURSOR_EXPIRED",
    )


def test_cursor_ahead_of_the_database_is_410(client, app, auth):
    """A database restored from a backup older than the cursor cannot continue it."""
    w = auth.headers("worker")
    seed(client, w)
    cursor = pull_all(client, w)[1]
    _sql(app, "DELETE FROM changes WHERE seq > (SELECT min(seq) FROM changes)")
    assert_problem(
        client.get(URL, query_string={"cursor": cursor}, headers=w), 410, "CURSOR_EXPIRED"
    )


def test_admin_pulls_everything(client, auth):
    a = seed(client, auth.headers("worker"))
    b = seed(client, auth.headers("worker3"), grid="370303001002-01")
    pages, _ = pull_all(client, auth.headers("admin"))
    assert sorted(ids(pages, "households")) == sorted(a[0] + b[0])


def test_scope_change_during_first_load_converges(client, app, auth, user_ids):
    w = auth.headers("worker")
    mine = seed(client, w, n=2)
    theirs = seed(client, auth.headers("worker2"), grid=GRID2, n=2)
    first = pull(client, w, limit=1)
    assert first["has_more"]
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        user_store.set_units(conn, user_ids["worker"], [GRID2])
    conn.close()
    state = {"households": set(), "problems": set(), "visits": set()}
    pages, _ = pull_all(client, w, first["next_cursor"], limit=3)
    for p in [first, *pages]:
        for kind, part in p["changes"].items():
            state[kind] |= {r["id"] for r in part["upserted"]}
        for kind, gone in p["revoked"].items():
            state[kind] -= set(gone)
    assert state["households"] == set(theirs[0])
    assert state["problems"] == set(theirs[2])
    assert set(theirs[1]) <= state["visits"]
    assert not set(mine[0]) & state["households"]
