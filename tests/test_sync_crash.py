"""kill -9 of a real gunicorn while large pushes are in flight: after a restart and a replay,
nothing acknowledged is missing, nothing is stored twice, and the database is intact."""

import signal
import sqlite3
import threading
import time
import uuid

import pytest
import requests
from conftest import PASSWORD
from live_server import start, stop
from sync_helpers import household_data, problem_data, visit_data

pytestmark = pytest.mark.slow

STALE_SECONDS = 1
KILL_AFTER_S = (0.0, 0.08, 0.2, 0.35, 0.6)  # from before the body lands to near the commit


@pytest.fixture
def instance(live_instance):
    return live_instance


def _login(base):
    resp = requests.post(
        base + "/api/v1/auth/login", json={"username": "worker", "password": PASSWORD}, timeout=10
    )
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _item(entity, record_id, data):
    return {
        "op_id": str(uuid.uuid4()),
        "entity": entity,
        "op": "create",
        "id": record_id,
        "data": data,
    }


def _batch(households, n_pairs):
    items = []
    for i in range(n_pairs):
        hid = households[i % len(households)]
        vid = str(uuid.uuid4())
        items.append(_item("visit", vid, visit_data(hid)))
        items.append(
            _item("problem", str(uuid.uuid4()), problem_data(household_id=hid, visit_id=vid))
        )
    return {"device_id": "crash-phone", "items": items}


def _replay(base, headers, key, body):
    """Send until the server answers 200 (a dead in-flight mark expires after STALE_SECONDS)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        resp = requests.post(
            base + "/api/v1/sync/push",
            json=body,
            headers={**headers, "Idempotency-Key": key},
            timeout=60,
        )
        if resp.status_code == 200:
            return resp.json()
        assert resp.status_code == 409 and resp.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT", (
            resp.text[:300]
        )
        time.sleep(0.3)
    raise AssertionError("the key stayed in flight")


def test_kill_9_mid_push_then_replay_is_exactly_once(instance):
    config = {"IDEMPOTENCY_STALE_SECONDS": STALE_SECONDS}
    proc, base = start(instance, workers=2, **config)
    try:
        headers = _login(base)
        households = [str(uuid.uuid4()) for _ in range(20)]
        first = requests.post(
            base + "/api/v1/sync/push",
            json={"items": [_item("household", h, household_data()) for h in households]},
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            timeout=30,
        ).json()
        assert first["summary"]["applied"] == 20
        sent = []
        for delay in KILL_AFTER_S:
            key, body = uuid.uuid4().hex, _batch(households, 500)  # 1,000 items
            answer = {}

            def send(key=key, body=body, answer=answer, base=base):
                try:
                    resp = requests.post(
                        base + "/api/v1/sync/push",
                        json=body,
                        headers={**headers, "Idempotency-Key": key},
                        timeout=60,
                    )
                    answer["json"] = resp.json() if resp.status_code == 200 else None
                except requests.RequestException:
                    answer["json"] = None  # the connection died with the server

            thread = threading.Thread(target=send)
            thread.start()
            time.sleep(delay)
            stop(proc, signal.SIGKILL)
            thread.join()
            proc, base = start(instance, workers=2, **config)
            replayed = _replay(base, headers, key, body)
            if answer["json"] is not None:  # acknowledged before the kill: the stored answer
                assert replayed == answer["json"]
            print(
                "kill after",
                delay,
                "acknowledged:",
                answer["json"] is not None,
                replayed["summary"],
            )
            statuses = {r["status"] for r in replayed["results"]}
            assert statuses <= {"applied", "duplicate"}, replayed["summary"]
            assert len(replayed["results"]) == 1000
            sent.append(body)
    finally:
        stop(proc)

    conn = sqlite3.connect(instance / "survey.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for entity, table in (("visit", "visits"), ("problem", "problems")):
            ids = {i["id"] for b in sent for i in b["items"] if i["entity"] == entity}
            stored = {r[0] for r in conn.execute(f"SELECT id FROM {table}")}
            assert stored == ids
        assert conn.execute("SELECT count(*) FROM changes WHERE entity = 'visit'").fetchone()[
            0
        ] == 500 * len(KILL_AFTER_S)
        assert conn.execute("SELECT count(*) FROM problem_events").fetchone()[0] == 500 * len(
            KILL_AFTER_S
        )
        assert conn.execute("SELECT sum(last) FROM problem_counters").fetchone()[0] == 500 * len(
            KILL_AFTER_S
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM idempotency_keys WHERE state = 'in_flight'"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()
