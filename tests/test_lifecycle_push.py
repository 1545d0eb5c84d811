"""The same lifecycle through REST and through push `problem_action` items: same results."""

import uuid
from datetime import datetime

import pytest

from survey_api.services import lifecycle
from survey_api.timeutil import SHANGHAI

API = "/api/v1"
GRID = "370303001001-01"

# (user, action, parameters): report → closed and rated, with detours.
WALK = [
    ("secretary", "escalate", {"note": "社区协调"}),
    ("secretary", "accept", {"note": "受理"}),
    ("secretary", "suspend", {"note": "等待产权单位"}),
    ("secretary", "resume", {}),
    ("secretary", "assign", {"responsible_unit": GRID, "responsible_person": "王师傅"}),
    ("worker", "start", {}),
    ("street", "supervise", {"note": "请尽快"}),
    ("secretary", "extend", {"due_at": "2026-12-31T18:00:00+08:00", "reason": "等配件"}),
    (
        "worker",
        "rectify",
        {
            "measures": "清运垃圾",
            "photos_after": ["b" * 64],
            "cost_share": {"resident": 10, "society": 20, "subsidy": 30.5},
        },
    ),
    ("secretary", "verify", {"ok": False, "note": "未清理干净"}),
    ("worker", "rectify", {"measures": "再次清运"}),
    ("secretary", "verify", {"ok": True}),
    ("secretary", "rate", {"rating": 1, "rating_comment": "不满意"}),
    ("secretary", "reopen", {"note": "重办"}),
    ("worker", "rectify", {"measures": "第三次清运"}),
    ("secretary", "verify", {"ok": True}),
    ("secretary", "rate", {"rating": 5}),
]
# Fields that differ between two records by nature (identity, storage times).
OWN = {
    "id",
    "number",
    "created_at",
    "updated_at",
    "reported_at",
    "created_at_client",
    "updated_at_client",
}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(lifecycle, "clock", lambda: datetime(2026, 11, 18, 9, 30, tzinfo=SHANGHAI))


def report(client, auth):
    resp = client.post(
        f"{API}/problems",
        headers=auth.headers("worker"),
        json={"grid_code": GRID, "category": "sanitation.garbage", "description": "垃圾堆放"},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def via_rest(client, auth, user, problem, action, params):
    return client.post(
        f"{API}/problems/{problem['id']}/actions",
        headers=auth.headers(user),
        json={"action": action, "base_version": problem["version"], **params},
    )


def via_push(client, auth, user, problem, action, params, base_version=None):
    item = {
        "op_id": str(uuid.uuid4()),
        "entity": "problem_action",
        "op": "action",
        "id": problem["id"],
        "data": {"action": action, **params},
        "base_version": problem["version"] if base_version is None else base_version,
    }
    resp = client.post(
        f"{API}/sync/push",
        json={"items": [item]},
        headers=auth.headers(user, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["results"][0]


def get(client, auth, problem_id):
    return client.get(f"{API}/problems/{problem_id}", headers=auth.headers("admin")).get_json()


def normalized(problem, users):
    out = {k: v for k, v in problem.items() if k not in OWN}
    out["events"] = [
        {k: v for k, v in e.items() if k not in ("id", "at")} for e in problem["events"]
    ]
    return out


def test_same_walk_same_result(client, auth, user_ids):
    rest, push = report(client, auth), report(client, auth)
    for user, action, params in WALK:
        resp = via_rest(client, auth, user, rest, action, params)
        assert resp.status_code == 200, (action, resp.get_json())
        rest = resp.get_json()
        result = via_push(client, auth, user, push, action, params)
        assert result["status"] == "applied", (action, result)
        push = get(client, auth, push["id"])
        assert result["version"] == push["version"] == rest["version"]
        assert normalized(push, user_ids) == normalized(rest, user_ids), action
    assert rest["status"] == "closed" and rest["rating"] == 5
    assert len(rest["events"]) == len(WALK) + 1


@pytest.mark.parametrize(
    "case", ["invalid_transition", "stale", "forbidden", "invalid", "invisible"]
)
def test_refusals_map_to_push_results(client, auth, case):
    problem = report(client, auth)
    user, action, params, base = {
        "invalid_transition": ("secretary", "verify", {"ok": True}, None),
        "stale": ("secretary", "accept", {}, 5),
        "forbidden": ("worker", "accept", {}, None),
        "invalid": ("secretary", "rate", {"rating": 9}, None),
        "invisible": ("secretary2", "accept", {}, None),
    }[case]
    rest = via_rest(
        client, auth, user, dict(problem, version=base or problem["version"]), action, params
    )
    pushed = via_push(client, auth, user, problem, action, params, base_version=base)
    body = rest.get_json()
    assert pushed["code"] == body["code"]
    if rest.status_code == 409:
        assert pushed["status"] == "conflict"
        assert normalized(pushed["server"], None) == normalized(body["current"], None)
    else:
        assert pushed["status"] == "rejected"
        if rest.status_code == 422:
            assert set(pushed["errors"]) == set(body["errors"]) == {"rating"}
    assert get(client, auth, problem["id"])["version"] == 1
