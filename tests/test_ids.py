"""ids.time_ordered: version-7 UUIDs that sort by creation time (events' keys append)."""

import time
import uuid

from sync_helpers import item, problem_data, push, uid

from survey_api import ids


def test_a_time_ordered_id_is_a_version_7_rfc_uuid_of_now():
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(ids.time_ordered())
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert str(made) == str(made).lower()


def test_later_ids_sort_after_earlier_ones_and_none_repeat():
    first = [ids.time_ordered() for _ in range(1000)]
    time.sleep(0.002)
    second = [ids.time_ordered() for _ in range(1000)]
    assert max(first) < min(second)  # as text too: the index orders them so
    assert len(set(first + second)) == 2000


def test_the_events_of_a_reported_and_a_pushed_problem_get_them(client, auth):
    headers = auth.headers("worker")
    resp = client.post("/api/v1/problems", json=problem_data(), headers=headers)
    assert resp.status_code == 201, resp.get_json()
    reported = resp.get_json()["id"]
    pushed = uid()
    resp = push(client, headers, [item("problem", "create", pushed, problem_data())])
    assert resp.status_code == 200 and resp.get_json()["results"][0]["status"] == "applied"
    for problem_id in (reported, pushed):
        got = client.get(f"/api/v1/problems/{problem_id}", headers=headers).get_json()
        assert [uuid.UUID(e["id"]).version for e in got["events"]] == [7]
