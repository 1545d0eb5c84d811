"""Several gunicorn workers, several phones pushing at once while others pull: no lock errors,
exact counts, and pulls that end with everything."""

import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PASSWORD
from live_server import running
from sync_helpers import GRID, GRID2, OTHER_GRID, household_data, problem_data, visit_data

pytestmark = pytest.mark.slow

DEVICES = [("worker", GRID), ("worker2", GRID2), ("worker3", OTHER_GRID), ("secretary", GRID)]
BATCHES, PAIRS = 4, 60  # per device: 4 pushes of 1 + 60 visits + 60 problems


@pytest.fixture
def instance(live_instance):
    return live_instance


def _headers(base, username):
    resp = requests.post(
        base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _item(entity, record_id, data):
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "op": "create",
        "id": record_id,
        "data": data,
    }


def _batches(grid):
    out = []
    for _ in range(BATCHES):
        hid = str(uuid.uuid4())
        items = [_item("household", hid, household_data(grid=grid))]
        for _ in range(PAIRS):
            vid = str(uuid.uuid4())
            items.append(_item("visit", vid, visit_data(hid)))
            items.append(
                _item(
                    "problem",
                    str(uuid.uuid4()),
                    problem_data(grid=grid, household_id=hid, visit_id=vid),
                )
            )
        out.append({"device_id": f"phone-{grid}", "items": items})
    return out


def _pull_all(base, headers, cursor=None, limit=200):
    seen = {"households": set(), "problems": set(), "visits": set()}
    while True:
        resp = requests.get(
            base + "/api/v1/sync/pull",
            headers=headers,
            timeout=60,
            params={"limit": limit, **({"cursor": cursor} if cursor else {})},
        )
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        for kind, part in body["changes"].items():
            seen[kind].update(r["id"] for r in part["upserted"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def test_devices_push_while_others_pull(instance):
    with running(instance, workers=3) as base:
        plan = [(_headers(base, user), _batches(grid)) for user, grid in DEVICES]
        readers = [_headers(base, "worker"), _headers(base, "street")]
        stop = threading.Event()
        pulls = []

        def pusher(headers, batches):
            statuses = []
            for body in batches:
                key = uuid.uuid4().hex
                resp = requests.post(
                    base + "/api/v1/sync/push",
                    json=body,
                    timeout=120,
                    headers={**headers, "Idempotency-Key": key},
                )
                assert resp.status_code == 200, resp.text[:300]
                statuses += [r["status"] for r in resp.json()["results"]]
                again = requests.post(
                    base + "/api/v1/sync/push",
                    json=body,
                    timeout=120,
                    headers={**headers, "Idempotency-Key": key},
                )
                assert again.json() == resp.json()
            return statuses

        def puller(headers):
            cursor = None
            while not stop.is_set():
                _, cursor = _pull_all(base, headers, cursor, limit=50)
                pulls.append(cursor)

        with ThreadPoolExecutor(len(plan) + len(readers)) as pool:
            readers_done = [pool.submit(puller, h) for h in readers]
            results = [pool.submit(pusher, h, b) for h, b in plan]
            statuses = [s for f in results for s in f.result()]
            stop.set()
            for f in readers_done:
                f.result()
        assert set(statuses) == {"applied"}
        assert len(statuses) == len(DEVICES) * BATCHES * (1 + 2 * PAIRS)
        assert pulls

        worker_seen, _ = _pull_all(base, _headers(base, "worker"), limit=1000)
        grid_items = [
            i
            for (_, grid), (_, batches) in zip(DEVICES, plan, strict=True)
            if grid == GRID
            for b in batches
            for i in b["items"]
        ]
        for kind in ("households", "problems", "visits"):
            assert worker_seen[kind] == {i["id"] for i in grid_items if i["entity"] + "s" == kind}

    conn = sqlite3.connect(instance / "survey.db")
    try:
        assert (
            conn.execute("SELECT count(*) FROM visits").fetchone()[0]
            == len(DEVICES) * BATCHES * PAIRS
        )
        assert (
            conn.execute("SELECT count(*) FROM problems").fetchone()[0]
            == len(DEVICES) * BATCHES * PAIRS
        )
        numbers = conn.execute("SELECT count(DISTINCT number) FROM problems").fetchone()[0]
        assert numbers == len(DEVICES) * BATCHES * PAIRS
    finally:
        conn.close()


def test_same_key_sent_twice_at_once_applies_once(instance):
    with running(instance, workers=3) as base:
        headers = _headers(base, "worker")
        body = _batches(GRID)[0]
        key = uuid.uuid4().hex

        def send():
            return requests.post(
                base + "/api/v1/sync/push",
                json=body,
                timeout=60,
                headers={**headers, "Idempotency-Key": key},
            )

        with ThreadPoolExecutor(4) as pool:
            answers = [f.result() for f in [pool.submit(send) for _ in range(4)]]
        codes = sorted(a.status_code for a in answers)
        assert set(codes) <= {200, 409} and 200 in codes
        for a in answers:
            if a.status_code == 409:
                assert a.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
                assert a.headers["Retry-After"] == "1"
        oks = [a.json() for a in answers if a.status_code == 200]
        assert all(o == oks[0] for o in oks)
        assert oks[0]["summary"]["applied"] == len(body["items"])
