"""Push shortcuts (services/push_batch.PushBatch: lookups once, creates kept and written in
bulk) answer as a plain lookup would.

Each case mixes items so that a lookup answered from what the push learned up front would go
wrong if that knowledge were stale: records created, failed, deleted or moved earlier in the
same push.
"""

import json

import pytest
from sync_helpers import (
    GRID2,
    OTHER_GRID,
    household_data,
    item,
    problem_data,
    push,
    uid,
    visit_data,
)

from survey_api.db import connect
from survey_api.services.creates import create_hash
from survey_api.storage import idempotency as idem
from survey_api.storage import visits as visit_store


@pytest.fixture
def w(auth):
    return auth.headers("worker")


def results(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    return resp.get_json()["results"]


def statuses(resp):
    return [(r["status"], r.get("code")) for r in results(resp)]


def count(app, table):
    conn = connect(app.config["DATABASE"])
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_same_new_id_twice_in_one_push_duplicate_then_id_reused(client, w):
    hid, vid = uid(), uid()
    items = [
        item("household", "create", hid, household_data()),
        item("visit", "create", vid, visit_data(hid)),
        item("visit", "create", vid, visit_data(hid)),
        item("visit", "create", vid, visit_data(hid, notes="other")),
        item("problem", "create", (pid := uid()), problem_data(household_id=hid)),
        item("problem", "create", pid, problem_data(household_id=hid)),
        item("household", "create", hid, household_data()),
    ]
    assert statuses(push(client, w, items)) == [
        ("applied", None),
        ("applied", None),
        ("duplicate", None),
        ("conflict", "ID_REUSED"),
        ("applied", None),
        ("duplicate", None),
        ("duplicate", None),
    ]


def test_id_of_a_failed_create_can_be_created_later_in_the_push(client, app, w):
    hid, vid = uid(), uid()
    items = [
        item("household", "create", hid, household_data()),
        item("visit", "create", vid, visit_data(hid, outcome="bad")),
        item("visit", "create", vid, visit_data(hid)),
    ]
    assert statuses(push(client, w, items)) == [
        ("applied", None),
        ("rejected", "VALIDATION_ERROR"),
        ("applied", None),
    ]
    assert count(app, "visits") == 1


def test_household_deleted_earlier_in_the_push_is_gone_for_a_visit(client, w):
    hid = uid()
    assert statuses(push(client, w, [item("household", "create", hid, household_data())])) == [
        ("applied", None)
    ]
    items = [
        item("visit", "create", uid(), visit_data(hid)),
        item("household", "delete", hid, base_version=1),
        item("visit", "create", uid(), visit_data(hid)),
        item("problem", "create", uid(), problem_data(household_id=hid)),
    ]
    assert statuses(push(client, w, items))[:3] == [
        ("applied", None),
        ("applied", None),
        ("rejected", "GONE"),
    ]


def test_household_moved_earlier_in_the_push_is_seen_in_its_new_grid(client, auth):
    w = auth.headers("secretary")  # holds both grids of the community
    hid = uid()
    push(client, w, [item("household", "create", hid, household_data())])
    items = [
        item("household", "update", hid, {"grid_code": GRID2}, base_version=1),
        item("visit", "create", (vid := uid()), visit_data(hid)),
        item("problem", "create", uid(), problem_data(household_id=hid)),
        item("problem", "create", uid(), problem_data(grid=GRID2, household_id=hid, visit_id=vid)),
    ]
    res = results(push(client, w, items))
    assert [r["status"] for r in res] == ["applied", "applied", "rejected", "applied"]
    assert res[2]["errors"] == {"household_id": ["The household is in another grid."]}
    visit = client.get(f"/api/v1/visits/{vid}", headers=w).get_json()
    assert visit["grid_code"] == GRID2


def test_problem_naming_a_visit_of_this_push_checks_its_household(client, w):
    h1, h2, vid = uid(), uid(), uid()
    items = [
        item("household", "create", h1, household_data()),
        item("household", "create", h2, household_data()),
        item("visit", "create", vid, visit_data(h1)),
        item("problem", "create", uid(), problem_data(household_id=h2, visit_id=vid)),
        item("problem", "create", (pid := uid()), problem_data(visit_id=vid)),
    ]
    res = results(push(client, w, items))
    assert [r["status"] for r in res] == ["applied"] * 3 + ["rejected", "applied"]
    assert res[3]["errors"] == {"visit_id": ["The visit is of another household."]}
    problem = client.get(f"/api/v1/problems/{pid}", headers=w).get_json()
    assert problem["household_id"] == h1 and problem["visit_id"] == vid


def test_reference_out_of_scope_is_not_found_from_the_batch_too(client, auth, w):
    admin = auth.headers("admin")
    hid = uid()
    assert statuses(
        push(client, admin, [item("household", "create", hid, household_data(grid=OTHER_GRID))])
    ) == [("applied", None)]
    res = results(
        push(
            client,
            w,
            [
                item("visit", "create", uid(), visit_data(hid)),
                item("problem", "create", uid(), problem_data(household_id=hid)),
            ],
        )
    )
    assert [(r["status"], r["code"]) for r in res] == [("rejected", "NOT_FOUND")] * 2


def test_a_failing_bulk_write_rolls_back_the_whole_push(client, app, w, monkeypatch):
    """Creates are checked, kept and written together (push_batch.flush); a write that fails
    there (a bug: every check passed) rolls back the whole push and frees its key."""
    hid = uid()
    push(client, w, [item("household", "create", hid, household_data())])
    before = {
        t: count(app, t)
        for t in ("visits", "changes", "households", "push_ops", "problem_counters")
    }

    def fail(conn, rows):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(visit_store, "insert_many", fail)
    items = [
        item("household", "create", uid(), household_data()),
        item("visit", "create", uid(), visit_data(hid)),
        item("problem", "create", uid(), problem_data(household_id=hid)),
    ]
    key = uid()
    assert push(client, w, items, key=key).status_code == 500
    assert {t: count(app, t) for t in before} == before
    monkeypatch.undo()
    assert statuses(push(client, w, items, key=key)) == [("applied", None)] * 3


def test_kept_creates_are_written_before_an_update_reads(client, app, w):
    """An update after creates of the same push sees them (the batch writes what it kept
    before any item that reads on its own), and seqs follow the items' order."""
    hid, vid, pid = uid(), uid(), uid()
    items = [
        item("household", "create", hid, household_data()),
        item("visit", "create", vid, visit_data(hid)),
        item("household", "update", hid, {"members": 7}, base_version=1),
        item("problem", "create", pid, problem_data(household_id=hid, visit_id=vid)),
        item("problem", "update", pid, {"description": "改"}, base_version=1),
        item("household", "create", hid, household_data()),
    ]
    assert statuses(push(client, w, items)) == [("applied", None)] * 5 + [("duplicate", None)]
    conn = connect(app.config["DATABASE"])
    try:
        order = [
            tuple(r) for r in conn.execute("SELECT entity, record_id FROM changes ORDER BY seq")
        ]
        assert order == [
            ("household", hid),
            ("visit", vid),
            ("household", hid),
            ("problem", pid),
            ("problem", pid),
        ]
        assert tuple(conn.execute("SELECT members, version FROM households").fetchone()) == (7, 2)
        (number,) = conn.execute("SELECT number FROM problems").fetchone()
        assert number.endswith("-0001")
        assert conn.execute("SELECT count(*) FROM problem_events").fetchone()[0] == 1
    finally:
        conn.close()


def test_problem_numbers_stay_gap_free_across_pushes_and_failures(client, app, w):
    hid = uid()
    push(client, w, [item("household", "create", hid, household_data())])
    items = [
        item("problem", "create", uid(), problem_data()),
        item("problem", "create", uid(), problem_data(category="safety")),  # not a leaf
        item("problem", "create", uid(), problem_data(household_id=hid)),
    ]
    assert [s for s, _ in statuses(push(client, w, items))] == ["applied", "rejected", "applied"]
    push(client, w, [item("problem", "create", uid(), problem_data())])
    conn = connect(app.config["DATABASE"])
    try:
        numbers = sorted(r[0][-4:] for r in conn.execute("SELECT number FROM problems"))
        assert numbers == ["0001", "0002", "0003"]
        assert conn.execute("SELECT last FROM problem_counters").fetchone()[0] == 3
    finally:
        conn.close()


@pytest.mark.parametrize(
    "results",
    [
        [],
        [{"op_id": None, "status": "rejected", "id": None, "code": "VALIDATION_ERROR"}],
        [
            {"op_id": "A", "status": "applied", "id": "x", "version": 1},
            {
                "op_id": "b",
                "status": "conflict",
                "id": "y",
                "code": "STALE_VERSION",
                "server": {"address": '路1号 "东"\n', "tags": ["elderly"], "n": 1.5},
                "errors": {"data": {"phone": ["非法"]}},
            },
        ],
    ],
)
def test_the_response_built_around_encoded_results_is_the_same_text(results):
    response = {
        "server_time": "2026-11-30T23:00:00.000000+00:00",
        "clock_offset_s": -0.25,
        "summary": {"applied": 1, "duplicate": 0, "conflict": 1, "rejected": 0},
        "results": results,
    }
    texts = [idem.encode_result(r) for r in results]
    assert idem.encode_response(response, texts) == idem.encode_response(response)
    assert json.loads(idem.encode_response(response, texts)) == response
    with pytest.raises(ValueError):
        idem.encode_response({"results": results, "summary": {}}, texts)


def test_a_pushed_create_stores_the_row_a_rest_create_stores(client, app, w, user_ids):
    """A push builds its households' and visits' rows before its write lock (push_batch.new_row)
    and completes them inside; the stored rows are those the REST creates store, column for
    column, up to the ids, the seqs and the times of the writes."""
    sha = "ab" * 32
    extra = {"tags": ["elderly", "disabled"], "notes": None, "members": 2}
    visit_extra = {
        "photos": [sha, sha],
        "location": {"lat": 36.8, "lng": 118.05, "accuracy_m": 5},
        "visited_at": "2026-11-27T23:30:00+08:00",
    }
    rest_h = client.post("/api/v1/households", json=household_data(**extra), headers=w)
    rest_hid = rest_h.get_json()["id"]
    rest_v = client.post("/api/v1/visits", json=visit_data(rest_hid, **visit_extra), headers=w)
    assert rest_h.status_code == rest_v.status_code == 201
    hid, vid = uid(), uid()
    items = [
        item("household", "create", hid.upper(), household_data(**extra)),
        item("visit", "create", vid, visit_data(hid.upper(), **visit_extra)),
    ]
    assert statuses(push(client, w, items)) == [("applied", None)] * 2
    conn = connect(app.config["DATABASE"])
    conn.row_factory = None
    moving = {"id", "seq", "created_at", "updated_at", "received_at", "household_id"}
    moving_v = moving | {"create_hash"}  # of data naming another household

    def row(table, record_id):
        cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (record_id,))
        names = [d[0] for d in cur.description]
        values = dict(zip(names, cur.fetchone(), strict=True))
        assert values["id"] == record_id
        leave = moving_v if table == "visits" else moving
        return {k: v for k, v in values.items() if k not in leave}, values

    try:
        pushed_h, full_h = row("households", hid)
        assert pushed_h == row("households", rest_hid)[0]
        assert json.loads(full_h["tags"]) == ["elderly", "disabled"]
        assert full_h["created_at"] == full_h["updated_at"] and full_h["seq"] > 0
        assert full_h["created_by"] == user_ids["worker"] and full_h["version"] == 1
        pushed_v, full_v = row("visits", vid)
        assert pushed_v == row("visits", rest_v.get_json()["id"])[0]
        assert full_v["visitor_id"] == user_ids["worker"] and full_v["seq"] > full_h["seq"]
        assert full_v["household_id"] == hid and full_v["visited_at_utc"].startswith(
            "2026-11-27T15:30:00"
        )
        assert json.loads(full_v["photos"]) == [sha] and full_v["received_at"] > "2026"
        assert full_v["create_hash"] == create_hash(visit_data(hid.upper(), **visit_extra))
    finally:
        conn.close()
