"""Push shortcuts (services/creates.Batch, creates without a savepoint) answer as a plain lookup.

Each case mixes items so that a lookup answered from what the push learned up front would go
wrong if that knowledge were stale: records created, failed, deleted or moved earlier in the
same push.
"""

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
from survey_api.errors import ApiError
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
    items = [item("household", "create", hid, household_data()),
             item("visit", "create", vid, visit_data(hid)),
             item("visit", "create", vid, visit_data(hid)),
             item("visit", "create", vid, visit_data(hid, notes="other")),
             item("problem", "create", (pid := uid()), problem_data(household_id=hid)),
             item("problem", "create", pid, problem_data(household_id=hid)),
             item("household", "create", hid, household_data())]
    assert statuses(push(client, w, items)) == [
        ("applied", None), ("applied", None), ("duplicate", None), ("conflict", "ID_REUSED"),
        ("applied", None), ("duplicate", None), ("duplicate", None)]


def test_id_of_a_failed_create_can_be_created_later_in_the_push(client, app, w):
    hid, vid = uid(), uid()
    items = [item("household", "create", hid, household_data()),
             item("visit", "create", vid, visit_data(hid, outcome="bad")),
             item("visit", "create", vid, visit_data(hid))]
    assert statuses(push(client, w, items)) == [
        ("applied", None), ("rejected", "VALIDATION_ERROR"), ("applied", None)]
    assert count(app, "visits") == 1


def test_household_deleted_earlier_in_the_push_is_gone_for_a_visit(client, w):
    hid = uid()
    assert statuses(push(client, w, [item("household", "create", hid, household_data())])) == [
        ("applied", None)]
    items = [item("visit", "create", uid(), visit_data(hid)),
             item("household", "delete", hid, base_version=1),
             item("visit", "create", uid(), visit_data(hid)),
             item("problem", "create", uid(), problem_data(household_id=hid))]
    assert statuses(push(client, w, items))[:3] == [
        ("applied", None), ("applied", None), ("rejected", "GONE")]


def test_household_moved_earlier_in_the_push_is_seen_in_its_new_grid(client, auth):
    w = auth.headers("secretary")  # holds both grids of the community
    hid = uid()
    push(client, w, [item("household", "create", hid, household_data())])
    items = [item("household", "update", hid, {"grid_code": GRID2}, base_version=1),
             item("visit", "create", (vid := uid()), visit_data(hid)),
             item("problem", "create", uid(), problem_data(household_id=hid)),
             item("problem", "create", uid(), problem_data(grid=GRID2, household_id=hid,
                                                           visit_id=vid))]
    res = results(push(client, w, items))
    assert [r["status"] for r in res] == ["applied", "applied", "rejected", "applied"]
    assert res[2]["errors"] == {"household_id": ["The household is in another grid."]}
    visit = client.get(f"/api/v1/visits/{vid}", headers=w).get_json()
    assert visit["grid_code"] == GRID2


def test_problem_naming_a_visit_of_this_push_checks_its_household(client, w):
    h1, h2, vid = uid(), uid(), uid()
    items = [item("household", "create", h1, household_data()),
             item("household", "create", h2, household_data()),
             item("visit", "create", vid, visit_data(h1)),
             item("problem", "create", uid(), problem_data(household_id=h2, visit_id=vid)),
             item("problem", "create", (pid := uid()), problem_data(visit_id=vid))]
    res = results(push(client, w, items))
    assert [r["status"] for r in res] == ["applied"] * 3 + ["rejected", "applied"]
    assert res[3]["errors"] == {"visit_id": ["The visit is of another household."]}
    problem = client.get(f"/api/v1/problems/{pid}", headers=w).get_json()
    assert problem["household_id"] == h1 and problem["visit_id"] == vid


def test_reference_out_of_scope_is_not_found_from_the_batch_too(client, auth, w):
    admin = auth.headers("admin")
    hid = uid()
    assert statuses(push(client, admin, [
        item("household", "create", hid, household_data(grid=OTHER_GRID))])) == [
        ("applied", None)]
    res = results(push(client, w, [item("visit", "create", uid(), visit_data(hid)),
                                    item("problem", "create", uid(),
                                         problem_data(household_id=hid))]))
    assert [(r["status"], r["code"]) for r in res] == [("rejected", "NOT_FOUND")] * 2


def test_a_create_failing_after_a_write_aborts_the_whole_push(client, app, w, monkeypatch):
    """Creates run without a savepoint because they check before writing; if one ever fails
    after writing, the push is rolled back as a whole instead of keeping half an item."""
    hid = uid()
    push(client, w, [item("household", "create", hid, household_data())])
    before = {t: count(app, t) for t in ("visits", "changes", "households")}
    real_insert = visit_store.insert

    def insert_then_fail(conn, visit_id, fields, **kw):
        real_insert(conn, visit_id, fields, **kw)
        raise ApiError(422, "VALIDATION_ERROR", "late failure")

    monkeypatch.setattr(visit_store, "insert", insert_then_fail)
    items = [item("household", "create", uid(), household_data()),
             item("visit", "create", uid(), visit_data(hid))]
    resp = push(client, w, items)
    assert resp.status_code == 500
    assert {t: count(app, t) for t in before} == before


def _list_schema():
    """The push envelope as it was declared before schemas.sync._Items: the reference."""
    from marshmallow import fields, validate

    from schemas.common import AwareDateTime, StrictSchema
    from schemas.sync import MAX_ITEMS, PushItemSchema

    class ListPush(StrictSchema):
        device_id = fields.String(allow_none=True, validate=validate.Length(max=200))
        device_time = AwareDateTime(allow_none=True)
        items = fields.List(fields.Nested(PushItemSchema), required=True,
                            validate=validate.Length(max=MAX_ITEMS))

    return ListPush()


def _envelopes():
    ok = item("visit", "create", uid(), {})
    return [{}, {"items": None}, {"items": "x"}, {"items": {}}, {"items": 5}, {"items": [None]},
            {"items": [None, ok]}, {"items": [None, {"op_id": 1}], "device_time": "x"},
            {"items": [[]]}, {"items": [ok] * 1001}, {"items": [None] * 1001},
            {"items": [item("visit", "update", uid())]},
            {"items": [{"op_id": uid(), "entity": "household", "op": "update"}]},
            {"items": [item("household", "delete", uid(), base_version=2.5)]},
            {"items": [ok, {"op_id": uid(), "entity": "x", "op": "y"}],
             "device_time": "2020-01-01T00:00:00"},
            {"items": [{**ok, "data": [1]}]}, {"items": [{**ok, "at_client": "bad"}]},
            {"items": "abc", "zzz": 1}, {"items": [ok, "s", 1.5, True, {}]}, {"items": []},
            {"items": [ok]}]


@pytest.mark.parametrize("envelope", _envelopes())
def test_push_items_load_and_fail_exactly_like_a_list_of_nested(envelope):
    from marshmallow import ValidationError

    from schemas.sync import PushSchema

    def load(schema):
        try:
            return "ok", schema.load(envelope)
        except ValidationError as e:
            return "error", e.messages

    assert load(PushSchema()) == load(_list_schema())
