"""Two real gunicorn workers: concurrent actions on one problem, parallel numbering."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import _HASH, PASSWORD
from live_server import running

from survey_api.db import connect, write_tx
from survey_api.storage import users as user_store

pytestmark = pytest.mark.slow

GRID = "370303001001-01"


@pytest.fixture
def instance(live_instance):
    path = live_instance
    conn = connect(str(path / "survey.db"))
    with write_tx(conn):  # a second secretary of the same community
        user_store.create(
            conn,
            username="secretary_b",
            password_hash=_HASH,
            role="secretary",
            unit_codes=["370303001001"],
        )
    conn.close()
    return path


def login(base, username):
    resp = requests.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def report(base, headers, i=0):
    resp = requests.post(
        f"{base}/api/v1/problems",
        headers=headers,
        timeout=30,
        json={"grid_code": GRID, "category": "sanitation.garbage", "description": f"垃圾堆放 {i}"},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_two_secretaries_at_once_exactly_one_wins(instance):
    with running(instance, workers=2) as base:
        worker = login(base, "worker")
        secretaries = [login(base, "secretary"), login(base, "secretary_b")]
        for round_no in range(6):
            problem = report(base, worker, round_no)
            barrier = threading.Barrier(2)
            # One accepts, the other rejects — both from version 1.
            bodies = [
                {"action": "accept", "base_version": 1, "note": "受理"},
                {"action": "reject", "base_version": 1, "note": "不受理"},
            ]

            def send(i, problem=problem, barrier=barrier, bodies=bodies):
                barrier.wait()
                return requests.post(
                    f"{base}/api/v1/problems/{problem['id']}/actions",
                    json=bodies[i],
                    headers=secretaries[i],
                    timeout=30,
                )

            with ThreadPoolExecutor(2) as pool:
                responses = list(pool.map(send, range(2)))
            codes = sorted(r.status_code for r in responses)
            assert codes == [200, 409], [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200).json()
            loser = next(r for r in responses if r.status_code == 409).json()
            assert loser["code"] == "STALE_VERSION"
            assert loser["current"]["version"] == 2
            assert loser["current"]["status"] == winner["status"]
            assert loser["current"]["events"] == winner["events"]
            stored = requests.get(
                f"{base}/api/v1/problems/{problem['id']}", headers=worker, timeout=30
            ).json()
            assert stored["version"] == 2 and len(stored["events"]) == 2


def test_problem_numbers_unique_and_gap_free_in_parallel(instance):
    with running(instance, workers=2) as base:
        workers = [
            login(base, "worker"),
            login(base, "secretary"),
            login(base, "street"),
            login(base, "admin"),
        ]

        def create(i):
            return report(base, workers[i % 4], i)["number"]

        with ThreadPoolExecutor(8) as pool:
            numbers = list(pool.map(create, range(48)))
    assert len(set(numbers)) == 48
    prefixes = {n.rsplit("-", 1)[0] for n in numbers}
    assert len(prefixes) == 1 and prefixes.pop().startswith("370303001001-20")
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 49))


def test_problem_numbers_gap_free_with_parallel_pushes(instance):
    import uuid

    with running(instance, workers=2) as base:
        users = [login(base, "worker"), login(base, "secretary"), login(base, "street")]

        def push(i):
            items = [
                {
                    "op_id": str(uuid.uuid4()),
                    "entity": "problem",
                    "op": "create",
                    "id": str(uuid.uuid4()),
                    "data": {
                        "grid_code": GRID,
                        "category": "traffic.parking",
                        "description": f"乱停车 {i}-{j}",
                    },
                }
                for j in range(15)
            ]
            resp = requests.post(
                f"{base}/api/v1/sync/push",
                json={"items": items},
                timeout=60,
                headers={**users[i % 3], "Idempotency-Key": str(uuid.uuid4())},
            )
            assert resp.status_code == 200, resp.text
            results = resp.json()["results"]
            assert all(r["status"] == "applied" for r in results), results
            return [r["id"] for r in results]

        with ThreadPoolExecutor(6) as pool:
            ids = [i for batch in pool.map(push, range(6)) for i in batch]
    conn = connect(str(instance / "survey.db"))
    marks = ",".join("?" * len(ids))
    numbers = [
        r[0] for r in conn.execute(f"SELECT number FROM problems WHERE id IN ({marks})", ids)
    ]
    conn.close()
    assert len(numbers) == len(set(numbers)) == 90
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 91))
