"""POST /sync/push: one test per rule of DESIGN §5 and Appendix A "Push"."""

import json
import time

import pytest
from conftest import assert_problem
from sync_helpers import GRID, OTHER_GRID, household_data, item, problem_data, push, uid, visit_data

from survey_api.db import connect, write_tx
from survey_api.storage import idempotency as idem

URL = "/api/v1/sync/push"


def results(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    return resp.get_json()["results"]


def count(app, table):
    conn = connect(app.config["DATABASE"])
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def w(auth):
    return auth.headers("worker")


def new_household(client, w, **extra):
    hid = uid()
    [r] = results(push(client, w, [item("household", "create", hid, household_data(**extra))]))
    assert r["status"] == "applied", r
    return hid


# --- Idempotency-Key ---------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "short", "x" * 129, "has space1", "非ascii-key-1"])
def test_idempotency_key_missing_or_invalid_is_400(client, w, key):
    headers = dict(w)
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = client.post(URL, json={"items": []}, headers=headers)
    assert_problem(resp, 400, "IDEMPOTENCY_KEY_MISSING")


@pytest.mark.parametrize("body", [None, {}, {"items": "nope"}, {"items": [{"op_id": "x"}]}])
def test_idempotency_key_is_checked_before_the_body(client, w, body):
    resp = (
        client.post(URL, json=body, headers=w) if body is not None else client.post(URL, headers=w)
    )
    assert_problem(resp, 400, "IDEMPOTENCY_KEY_MISSING")


def test_replay_same_key_same_body_returns_stored_response(client, app, w):
    items = [item("household", "create", uid(), household_data())]
    first = push(client, w, items, key="replay-key-1")
    again = push(client, w, items, key="replay-key-1")
    assert first.get_data() == again.get_data()  # byte for byte
    assert again.get_json()["summary"]["applied"] == 1
    assert count(app, "households") == 1


def test_a_known_key_is_answered_before_any_item_is_prepared(client, w, monkeypatch):
    """A replay (same body) and a reused key (other body) are judged by a read of the key
    first: the items are not loaded again."""
    from survey_api.services import push as push_service

    items = [item("household", "create", uid(), household_data())]
    first = push(client, w, items, key="known-key-1")

    def no_prepare(*args):
        raise AssertionError("prepared a push whose key was known")

    monkeypatch.setattr(push_service, "prepare", no_prepare)
    assert push(client, w, items, key="known-key-1").get_data() == first.get_data()
    other = [item("household", "create", uid(), household_data())]
    assert_problem(push(client, w, other, key="known-key-1"), 422, "IDEMPOTENCY_KEY_REUSED")


def test_same_key_different_body_is_422_reused(client, w):
    push(client, w, [item("household", "create", uid(), household_data())], key="reused-key-1")
    resp = push(
        client, w, [item("household", "create", uid(), household_data())], key="reused-key-1"
    )
    assert_problem(resp, 422, "IDEMPOTENCY_KEY_REUSED")


def _mark(app, user_id, key, body, started_at):
    import hashlib

    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        conn.execute(
            "INSERT INTO idempotency_keys (user_id, key, body_sha256, state, started_at,"
            " created_at) VALUES (?, ?, ?, 'in_flight', ?, '2026-01-01')",
            (user_id, key, hashlib.sha256(body).hexdigest(), started_at),
        )
    conn.close()


def test_key_in_flight_is_409_with_retry_after(client, app, w, user_ids):
    body = json.dumps({"items": []}).encode()
    _mark(app, user_ids["worker"], "inflight-key", body, time.time())
    resp = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={**w, "Idempotency-Key": "inflight-key"},
    )
    assert_problem(resp, 409, "IDEMPOTENCY_KEY_IN_FLIGHT")
    assert resp.headers["Retry-After"] == "1"


def test_dead_in_flight_mark_is_taken_over_after_stale_seconds(client, app, w, user_ids):
    body = json.dumps({"items": [item("household", "create", uid(), household_data())]}).encode()
    _mark(app, user_ids["worker"], "dead-key-1", body, time.time() - 31)
    resp = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={**w, "Idempotency-Key": "dead-key-1"},
    )
    assert results(resp)[0]["status"] == "applied"


def test_keys_are_scoped_to_the_user(client, auth):
    items = [item("household", "create", uid(), household_data())]
    assert push(client, auth.headers("worker"), items, key="shared-key-1").status_code == 200
    other = push(client, auth.headers("secretary"), items, key="shared-key-1")
    assert results(other)[0]["status"] == "duplicate"  # processed, not a replay of worker's


# --- envelope ----------------------------------------------------------------------------


def test_more_than_1000_items_is_413_too_many_items(client, app, w):
    items = [item("household", "create", uid(), household_data()) for _ in range(1001)]
    assert_problem(push(client, w, items), 413, "TOO_MANY_ITEMS")
    assert count(app, "households") == 0


def test_body_over_5_mib_is_413_payload_too_large(client, app, w):
    big = {
        "items": [item("household", "create", uid(), household_data())],
        "device_id": "x" * 6_000_000,
    }  # 6 MB
    resp = client.post(
        URL,
        data=json.dumps(big),
        content_type="application/json",
        headers={**w, "Idempotency-Key": uid()},
    )
    assert_problem(resp, 413, "PAYLOAD_TOO_LARGE")
    assert count(app, "households") == 0


@pytest.mark.parametrize(
    "body, path",
    [
        ({}, "items"),
        ({"items": "nope"}, "items"),
        ({"items": {"0": {}}}, "items"),
        ({"items": None}, "items"),
        ({"items": [], "device_time": "2026-11-27T09:00:00"}, "device_time"),
        ({"items": [], "device_time": 5}, "device_time"),
        ({"items": [], "device_id": "x" * 201}, "device_id"),
        ({"items": [], "device_id": 7}, "device_id"),
        ({"items": [], "extra": 1}, "extra"),
    ],
)
def test_envelope_errors_are_422_with_paths_and_write_nothing(client, app, w, body, path):
    resp = client.post(URL, json=body, headers={**w, "Idempotency-Key": uid()})
    problem = assert_problem(resp, 422, "VALIDATION_ERROR")
    assert path in problem["errors"], problem["errors"]
    assert count(app, "idempotency_keys") == 0 and count(app, "changes") == 0


@pytest.mark.parametrize("body", [[], ["items"], "items", 5, None])
def test_a_body_that_is_not_an_object_is_422(client, app, w, body):
    resp = client.post(URL, json=body, headers={**w, "Idempotency-Key": uid()})
    assert_problem(resp, 422, "VALIDATION_ERROR")
    assert count(app, "idempotency_keys") == 0


H = "2f1e7a8c-1111-4222-8333-444455556667"
OP = "2f1e7a8c-1111-4222-8333-444455556666"

# Items whose own fields are wrong (Appendix B): each is one rejected result, field named.
BAD_ITEMS = [
    ({"op_id": OP, "entity": "cat", "op": "create", "id": H, "data": {}}, "entity"),
    ({"op_id": OP, "op": "create", "id": H, "data": {}}, "entity"),
    ({"op_id": OP, "entity": "household", "op": "merge", "id": H, "data": {}}, "op"),
    ({"op_id": OP, "entity": "household", "id": H, "data": {}}, "op"),
    ({"op_id": OP, "entity": "visit", "op": "delete", "id": H, "base_version": 1}, "op"),
    (
        {"op_id": OP, "entity": "household", "op": "update", "id": H, "data": {"notes": "x"}},
        "base_version",
    ),
    (
        {
            "op_id": OP,
            "entity": "household",
            "op": "update",
            "id": H,
            "base_version": "1",
            "data": {"notes": "x"},
        },
        "base_version",
    ),
    ({"op_id": OP, "entity": "household", "op": "delete", "id": H}, "base_version"),
    (
        {"op_id": OP, "entity": "household", "op": "delete", "id": H, "base_version": 1.5},
        "base_version",
    ),
    (
        {"op_id": OP, "entity": "problem", "op": "delete", "id": H, "base_version": None},
        "base_version",
    ),
    (
        {
            "op_id": OP,
            "entity": "problem_action",
            "op": "action",
            "id": H,
            "data": {"action": "accept"},
        },
        "base_version",
    ),
    (
        {
            "op_id": OP,
            "entity": "problem_action",
            "op": "action",
            "id": H,
            "base_version": True,
            "data": {"action": "accept"},
        },
        "base_version",
    ),
    ({"op_id": OP, "entity": "household", "op": "delete", "id": H[:-1], "base_version": 1}, "id"),
    ({"op_id": OP, "entity": "household", "op": "delete", "id": 5, "base_version": 1}, "id"),
    (
        {
            "op_id": OP,
            "entity": "household",
            "op": "update",
            "base_version": 1,
            "data": {"notes": "x"},
        },
        "id",
    ),
    ({"op_id": OP, "entity": "household", "op": "create", "id": H}, "data"),
    ({"op_id": OP, "entity": "household", "op": "update", "id": H, "base_version": 1}, "data"),
    ({"op_id": OP, "entity": "problem_action", "op": "action", "id": H, "base_version": 1}, "data"),
    ({"op_id": OP, "entity": "household", "op": "create", "id": H, "data": "text"}, "data"),
    ({"op_id": OP, "entity": "household", "op": "create", "id": H, "data": [1]}, "data"),
    ({"op_id": OP, "entity": "household", "op": "create", "id": H, "data": None}, "data"),
    (
        {
            "op_id": OP,
            "entity": "household",
            "op": "create",
            "id": H,
            "data": {},
            "at_client": "2026-11-27 09:00",
        },
        "at_client",
    ),
    (
        {"op_id": OP, "entity": "household", "op": "create", "id": H, "data": {}, "surprise": 1},
        "surprise",
    ),
]


@pytest.mark.parametrize("bad, field", BAD_ITEMS)
def test_an_item_with_wrong_fields_is_rejected_and_the_others_applied(client, app, w, bad, field):
    h1, h3 = uid(), uid()
    bad = dict(bad, op_id=uid())
    items = [
        item("household", "create", h1, household_data()),
        bad,
        item("household", "create", h3, household_data()),
    ]
    body = push(client, w, items).get_json()
    first, r, third = body["results"]
    assert (first["status"], third["status"]) == ("applied", "applied")
    assert (r["status"], r["code"], r["retryable"]) == ("rejected", "VALIDATION_ERROR", False)
    assert r["op_id"] == bad["op_id"] and field in r["errors"], r
    assert body["summary"] == {"applied": 2, "duplicate": 0, "conflict": 0, "rejected": 1}
    assert count(app, "households") == 2


@pytest.mark.parametrize("bad", [None, "item", 5, 1.5, True, [], ["op_id"]])
def test_an_item_that_is_not_an_object_is_rejected_with_op_id_null(client, app, w, bad):
    h1 = uid()
    res = results(push(client, w, [bad, item("household", "create", h1, household_data())]))
    assert res[0]["op_id"] is None and res[0]["id"] is None
    assert (res[0]["status"], res[0]["code"], res[0]["retryable"]) == (
        "rejected",
        "VALIDATION_ERROR",
        False,
    )
    assert res[0]["errors"] and res[1]["status"] == "applied"


@pytest.mark.parametrize("op_id", [None, "bad", "", 17, OP[:-1], OP + "\n", ["x"]])
def test_an_item_without_a_valid_op_id_is_rejected_echoed_and_not_remembered(client, app, w, op_id):
    hid = uid()
    bad = {"entity": "household", "op": "create", "id": hid, "data": household_data()}
    if op_id is not None:
        bad["op_id"] = op_id
    for _ in range(2):  # not remembered: the same item again is judged again, not a duplicate
        [r] = results(push(client, w, [bad]))
        assert r["op_id"] == op_id and r["id"] == hid
        assert (r["status"], r["code"], r["retryable"]) == ("rejected", "VALIDATION_ERROR", False)
        assert "op_id" in r["errors"]
    assert count(app, "households") == 0 and count(app, "push_ops") == 0
    assert count(app, "changes") == 0


def test_a_rejected_item_writes_nothing_and_its_dependants_fail_as_parent_failed(client, app, w):
    hid = uid()
    items = [
        item("household", "create", hid, household_data(), at_client="yesterday"),
        item("visit", "create", uid(), visit_data(hid)),
        item("household", "create", uid(), household_data()),
    ]
    res = results(push(client, w, items))
    assert [(r["status"], r.get("code")) for r in res] == [
        ("rejected", "VALIDATION_ERROR"),
        ("rejected", "PARENT_FAILED"),
        ("applied", None),
    ]
    assert res[1]["retryable"] is True
    assert count(app, "households") == 1 and count(app, "visits") == 0
    assert count(app, "changes") == 1


def test_a_rejected_item_keeps_its_op_id_result(client, w):
    bad = item("household", "update", uid(), {"notes": "x"})  # no base_version
    [first] = results(push(client, w, [bad]))
    [again] = results(push(client, w, [bad]))
    assert first["code"] == again["code"] == "VALIDATION_ERROR"
    assert again == first  # a resent op_id answers its first result


def test_openapi_describes_the_per_item_result_codes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    result = doc["components"]["schemas"]["PushResult"]["properties"]
    codes = set(result["code"]["enum"])
    assert {
        "VALIDATION_ERROR",
        "NOT_FOUND",
        "PARENT_FAILED",
        "GONE",
        "OUT_OF_SCOPE",
        "ACTION_FORBIDDEN",
        "STALE_VERSION",
        "INVALID_TRANSITION",
        "ID_REUSED",
    } <= codes
    assert "per item" in result["code"]["description"]
    push_op = doc["paths"]["/api/v1/sync/push"]["post"]
    assert "VALIDATION_ERROR" in push_op["description"]
    items = doc["components"]["schemas"]["Push"]["properties"]["items"]
    assert items["maxItems"] == 1000 and items["items"] == {"$ref": "#/components/schemas/PushItem"}


def test_clock_offset_from_device_time(client, w):
    body = push(client, w, [], device_time="2026-01-01T08:00:00+08:00").get_json()
    assert body["clock_offset_s"] > 0 and isinstance(body["clock_offset_s"], float)
    assert push(client, w, []).get_json()["clock_offset_s"] is None


# --- items ---------------------------------------------------------------------------------


def test_results_one_per_item_in_order_with_summary(client, w):
    h1, h2 = uid(), uid()
    items = [
        item("household", "create", h1, household_data()),
        item("household", "create", h2, {"address": "no grid"}),
        item("visit", "create", uid(), visit_data(h1)),
    ]
    body = push(client, w, items).get_json()
    assert [r["op_id"] for r in body["results"]] == [i["op_id"] for i in items]
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "applied"]
    assert body["summary"] == {"applied": 2, "duplicate": 0, "conflict": 0, "rejected": 1}


def test_create_same_id_same_data_is_duplicate(client, app, w):
    hid = uid()
    results(push(client, w, [item("household", "create", hid, household_data())]))
    [r] = results(push(client, w, [item("household", "create", hid, household_data())]))
    assert r == {"op_id": r["op_id"], "status": "duplicate", "id": hid, "version": 1}
    assert count(app, "households") == 1


def test_create_same_id_other_data_is_conflict_id_reused(client, w):
    hid = new_household(client, w)
    [r] = results(
        push(client, w, [item("household", "create", hid, household_data(address="另一个地址"))])
    )
    assert r["status"] == "conflict" and r["code"] == "ID_REUSED"
    assert r["server"]["id"] == hid and r["retryable"] is False


def test_invalid_data_is_rejected_with_errors_relative_to_data(client, app, w):
    [r] = results(
        push(
            client,
            w,
            [item("household", "create", uid(), household_data(members=99, tags=["x"], version=2))],
        )
    )
    assert r["status"] == "rejected" and r["code"] == "VALIDATION_ERROR"
    assert set(r["errors"]) == {"members", "tags.0", "version"}
    assert r["retryable"] is False
    assert count(app, "households") == 0


@pytest.mark.parametrize(
    "data",
    [
        {"household_id": "nope", "visited_at": "2026-11-27T09:00:00+08:00", "outcome": "met"},
        {
            "household_id": "2f1e7a8c-1111-4222-8333-444455556666",
            "visited_at": "2026-11-27T09:00",
            "outcome": "met",
        },
        {"household_id": "2f1e7a8c-1111-4222-8333-444455556666", "visited_at": 5, "outcome": "x"},
        {
            "household_id": "2f1e7a8c-1111-4222-8333-444455556666",
            "visited_at": "2026-11-27T09:00:00Z",
            "outcome": "met",
            "notes": "x" * 2001,
        },
        {
            "household_id": "2f1e7a8c-1111-4222-8333-444455556666",
            "visited_at": "2026-11-27T09:00:00Z",
            "outcome": "met",
            "visitor_id": "me",
        },
        {
            "household_id": "2f1e7a8c-1111-4222-8333-444455556666",
            "visited_at": "2026-11-27T09:00:00Z",
            "outcome": "met",
            "photos": ["ABC"],
        },
    ],
)
def test_bad_visit_fields_are_rejected_and_write_nothing(client, app, w, data):
    [r] = results(push(client, w, [item("visit", "create", uid(), data)]))
    assert r["status"] == "rejected" and r["code"] == "VALIDATION_ERROR" and r["errors"]
    assert count(app, "visits") == 0 and count(app, "changes") == 0


def test_failed_item_writes_nothing(client, app, w):
    before = count(app, "changes")
    [r] = results(
        push(client, w, [item("problem", "create", uid(), problem_data(category="safety"))])
    )
    assert r["status"] == "rejected" and "category" in r["errors"]
    assert count(app, "changes") == before and count(app, "problem_counters") == 0
    assert count(app, "problem_events") == 0


@pytest.mark.parametrize("entity", ["household", "problem"])
def test_delete_of_unknown_id_is_applied_with_version_null(client, w, entity):
    rid = uid()
    [r] = results(push(client, w, [item(entity, "delete", rid, base_version=1)]))
    assert r["status"] == "applied" and r["id"] == rid and r["version"] is None


def test_delete_of_a_record_outside_scope_is_applied_and_leaks_nothing(client, auth):
    hid = new_household(client, auth.headers("worker"))
    [r] = results(
        push(client, auth.headers("worker3"), [item("household", "delete", hid, base_version=1)])
    )
    assert r["status"] == "applied" and r["version"] is None  # as for an unknown id
    resp = client.get(f"/api/v1/households/{hid}", headers=auth.headers("worker"))
    assert resp.get_json()["version"] == 1 and resp.get_json()["deleted"] is False


def test_delete_of_deleted_id_is_applied_whatever_base_version(client, w):
    hid = new_household(client, w)
    assert (
        results(push(client, w, [item("household", "delete", hid, base_version=1)]))[0]["status"]
        == "applied"
    )
    [r] = results(push(client, w, [item("household", "delete", hid, base_version=7)]))
    assert r["status"] == "applied" and r["version"] == 2


def test_stale_delete_of_live_record_is_conflict_stale_version(client, w):
    hid = new_household(client, w)
    results(push(client, w, [item("household", "update", hid, {"members": 5}, base_version=1)]))
    [r] = results(push(client, w, [item("household", "delete", hid, base_version=1)]))
    assert r["status"] == "conflict" and r["code"] == "STALE_VERSION"
    assert r["server"]["version"] == 2 and r["server"]["deleted"] is False


def test_update_of_deleted_record_is_rejected_gone(client, w):
    hid = new_household(client, w)
    results(push(client, w, [item("household", "delete", hid, base_version=1)]))
    [r] = results(
        push(client, w, [item("household", "update", hid, {"members": 1}, base_version=2)])
    )
    assert r["status"] == "rejected" and r["code"] == "GONE" and r["retryable"] is False


def test_parent_failed_in_same_batch_is_rejected_parent_failed(client, app, w):
    hid, pid = uid(), uid()
    items = [
        item("household", "create", hid, household_data(members=-1)),
        item("visit", "create", uid(), visit_data(hid)),
        item("problem", "create", pid, problem_data(household_id=hid)),
        item("household", "update", hid, {"notes": "x"}, base_version=1),
    ]
    res = results(push(client, w, items))
    assert res[0]["status"] == "rejected"
    for r in res[1:]:
        assert (r["status"], r["code"], r["retryable"]) == ("rejected", "PARENT_FAILED", True)
    assert count(app, "visits") == 0 and count(app, "problems") == 0


def test_reference_not_stored_yet_is_not_found_retryable(client, w):
    [r] = results(push(client, w, [item("visit", "create", uid(), visit_data(uid()))]))
    assert (r["status"], r["code"], r["retryable"]) == ("rejected", "NOT_FOUND", True)


def test_reference_out_of_scope_is_not_found(client, auth):
    hid = new_household(client, auth.headers("worker"))
    [r] = results(
        push(client, auth.headers("worker3"), [item("visit", "create", uid(), visit_data(hid))])
    )
    assert (r["status"], r["code"], r["retryable"]) == ("rejected", "NOT_FOUND", True)


def test_create_in_grid_outside_scope_is_rejected_out_of_scope(client, w):
    [r] = results(
        push(client, w, [item("household", "create", uid(), household_data(grid=OTHER_GRID))])
    )
    assert (r["status"], r["code"], r["retryable"]) == ("rejected", "OUT_OF_SCOPE", False)


def test_stale_base_version_merges_fields_that_do_not_overlap(client, w):
    hid = new_household(client, w)
    results(push(client, w, [item("household", "update", hid, {"members": 5}, base_version=1)]))
    [r] = results(
        push(client, w, [item("household", "update", hid, {"notes": "新备注"}, base_version=1)])
    )
    assert r["status"] == "applied" and r["version"] == 3
    record = client.get(f"/api/v1/households/{hid}", headers=w).get_json()
    assert record["members"] == 5 and record["notes"] == "新备注"


def test_stale_base_version_on_overlapping_field_is_conflict_stale_version(client, w):
    hid = new_household(client, w)
    results(push(client, w, [item("household", "update", hid, {"members": 5}, base_version=1)]))
    [r] = results(
        push(
            client,
            w,
            [item("household", "update", hid, {"members": 6, "notes": "n"}, base_version=1)],
        )
    )
    assert r["status"] == "conflict" and r["code"] == "STALE_VERSION"
    assert r["server"]["members"] == 5 and r["server"]["version"] == 2


def test_household_moving_grid_is_applied(client, w, auth):
    hid = new_household(client, w)
    h = auth.headers("secretary")
    [r] = results(
        push(
            client,
            h,
            [item("household", "update", hid, {"grid_code": "370303001001-02"}, base_version=1)],
        )
    )
    assert r["status"] == "applied"
    assert_problem(client.get(f"/api/v1/households/{hid}", headers=w), 404, "NOT_FOUND")


def test_resent_op_id_returns_first_result_applied_as_duplicate(client, app, w):
    hid = uid()
    first = item("household", "create", hid, household_data())
    results(push(client, w, [first]))
    [r] = results(push(client, w, [dict(first, data=household_data(address="changed"))]))
    assert r["status"] == "duplicate" and r["id"] == hid and r["version"] == 1
    bad = item("household", "create", uid(), {"address": "x"})
    r1 = results(push(client, w, [bad]))[0]
    r2 = results(push(client, w, [bad, bad]))
    assert r2 == [r1, r1]


def test_at_client_is_stored_never_compared(client, w):
    hid = uid()
    it = item("household", "create", hid, household_data(), at_client="2020-01-01T08:00:00+08:00")
    results(push(client, w, [it]))
    record = client.get(f"/api/v1/households/{hid}", headers=w).get_json()
    assert record["created_at_client"] == "2020-01-01T08:00:00+08:00"


def test_problem_action_applied_through_push(client, w, auth):
    pid = uid()
    results(push(client, w, [item("problem", "create", pid, problem_data())]))
    [r] = results(
        push(
            client,
            auth.headers("secretary"),
            [item("problem_action", "action", pid, {"action": "accept"}, base_version=1)],
        )
    )
    assert r["status"] == "applied" and r["version"] == 2


def test_problem_action_invalid_transition_is_conflict_with_server(client, w, auth):
    pid = uid()
    results(push(client, w, [item("problem", "create", pid, problem_data())]))
    [r] = results(
        push(
            client,
            auth.headers("secretary"),
            [
                item(
                    "problem_action",
                    "action",
                    pid,
                    {"action": "verify", "ok": True},
                    base_version=1,
                )
            ],
        )
    )
    assert r["status"] == "conflict" and r["code"] == "INVALID_TRANSITION"
    assert r["server"]["status"] == "reported" and r["server"]["events"]


def test_problem_action_forbidden_for_role_is_rejected(client, w):
    pid = uid()
    results(push(client, w, [item("problem", "create", pid, problem_data())]))
    [r] = results(
        push(
            client, w, [item("problem_action", "action", pid, {"action": "accept"}, base_version=1)]
        )
    )
    assert (r["status"], r["code"], r["retryable"]) == ("rejected", "ACTION_FORBIDDEN", False)


def test_reported_problem_update_and_delete(client, w, auth):
    pid = uid()
    results(push(client, w, [item("problem", "create", pid, problem_data())]))
    [r] = results(
        push(client, w, [item("problem", "update", pid, {"urgency": "urgent"}, base_version=1)])
    )
    assert r["status"] == "applied" and r["version"] == 2
    results(
        push(
            client,
            auth.headers("secretary"),
            [item("problem_action", "action", pid, {"action": "accept"}, base_version=2)],
        )
    )
    [r] = results(push(client, w, [item("problem", "delete", pid, base_version=3)]))
    assert r["status"] == "conflict" and r["code"] == "INVALID_TRANSITION"


def test_push_writes_one_audit_row(client, app, w):
    push(client, w, [item("household", "create", uid(), household_data()) for _ in range(3)])
    conn = connect(app.config["DATABASE"])
    rows = conn.execute("SELECT details FROM audit_log WHERE action = 'sync.push'").fetchall()
    conn.close()
    assert len(rows) == 1 and json.loads(rows[0][0])["applied"] == 3


def test_visit_with_problem_in_one_push_numbers_problems(client, w):
    hid = new_household(client, w)
    vid, pid = uid(), uid()
    res = results(
        push(
            client,
            w,
            [
                item("visit", "create", vid, visit_data(hid)),
                item("problem", "create", pid, problem_data(household_id=hid, visit_id=vid)),
            ],
        )
    )
    assert [r["status"] for r in res] == ["applied", "applied"]
    problem = client.get(f"/api/v1/problems/{pid}", headers=w).get_json()
    assert problem["number"].startswith("370303001001-20") and problem["number"].endswith("0001")
    assert problem["visit_id"] == vid and problem["household_id"] == hid
    assert GRID == problem["grid_code"]


def test_lone_surrogate_in_body_is_400_malformed(client, app, w):
    body = (
        '{"items": [{"op_id": "2f1e7a8c-1111-4222-8333-444455556666", "entity": "household",'
        ' "op": "create", "data": {"\\ud800": 1}}]}'
    )
    resp = client.post(
        URL, data=body, content_type="application/json", headers={**w, "Idempotency-Key": uid()}
    )
    assert_problem(resp, 400, "MALFORMED_BODY")
    assert count(app, "idempotency_keys") == 0


def test_a_resent_op_id_answers_its_first_result_whatever_the_item_says_now(client, app, w):
    hid = uid()
    first = item("household", "create", hid, household_data())
    results(push(client, w, [first]))
    changed = {"op_id": first["op_id"].upper(), "entity": "cat", "data": "x"}
    [r] = results(push(client, w, [changed]))
    assert r == {"op_id": changed["op_id"], "status": "duplicate", "id": hid, "version": 1}
    assert count(app, "households") == 1 and count(app, "push_ops") == 1


def test_an_op_id_stored_after_prepare_is_answered_from_the_lock(client, w, monkeypatch):
    """prepare() reads the answered op_ids before the write lock and builds their answers;
    one stored after that read (another push of the user in between) is found again under
    the lock and answered the same way: its first result, whatever the item says now."""
    bad = item("household", "create", uid(), {"address": "x"})
    [first] = results(push(client, w, [bad]))
    assert first["status"] == "rejected" and first["code"] == "VALIDATION_ERROR"
    now_valid = dict(bad, data=household_data())
    normal = results(push(client, w, [now_valid]))
    real_get_ops = idem.get_ops
    calls = []

    def get_ops_missing_at_prepare(conn, user_id, keys):
        calls.append(list(keys))
        return {} if len(calls) == 1 else real_get_ops(conn, user_id, keys)

    monkeypatch.setattr(idem, "get_ops", get_ops_missing_at_prepare)
    late = results(
        push(client, w, [now_valid, item("household", "create", uid(), household_data())])
    )
    assert len(calls) == 2 and bad["op_id"] in calls[1]
    assert normal == [first] and late[0] == first
    assert late[1]["status"] == "applied"
    assert client.get(f"/api/v1/households/{bad['id']}", headers=w).status_code == 404
