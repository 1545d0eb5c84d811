"""A phone (or an office user) talking to the soak's server as the real clients do."""

import time
import uuid
from datetime import datetime, timedelta, timezone

import requests

from .district import PASSWORD

SHANGHAI = timezone(timedelta(hours=8))
CATEGORIES = (
    "safety.flying_wires",
    "heating.no_heat",
    "traffic.parking",
    "sanitation.garbage",
    "facilities.lighting",
    "dispute.neighbour",
    "care.elderly",
)


class Client:
    """One user's session: logs in again when the access token expires."""

    def __init__(self, base, username):
        self.base, self.username = base, username
        self.http = requests.Session()
        self.token = None

    def login(self):
        resp = self.http.post(
            self.base + "/auth/login",
            timeout=60,
            json={
                "username": self.username,
                "password": PASSWORD,
                "device_id": f"soak-{self.username}",
            },
        )
        resp.raise_for_status()
        self.token = resp.json()["access_token"]

    def request(self, method, path, headers=None, timeout=120, **kwargs):
        """One request; a 401 (expired token) logs in and sends it once more."""
        if self.token is None:
            self.login()
        resp = self._send(method, path, headers, timeout, kwargs)
        if resp.status_code == 401:
            self.login()
            resp = self._send(method, path, headers, timeout, kwargs)
        return resp

    def _send(self, method, path, headers, timeout, kwargs):
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token}"}
        return self.http.request(
            method, self.base + path, headers=headers, timeout=timeout, **kwargs
        )

    def push(self, body, key):
        return self.request("POST", "/sync/push", json=body, headers={"Idempotency-Key": key})

    def push_until_answered(self, body, key, give_up_s=120):
        """Send (and resend after Retry-After) until the push is answered with 200.

        Returns (response json or None, [non-200 statuses seen]).
        """
        seen = []
        deadline = time.monotonic() + give_up_s
        while time.monotonic() < deadline:
            try:
                resp = self.push(body, key)
            except requests.RequestException as e:
                seen.append(type(e).__name__)
                time.sleep(0.5)
                continue
            if resp.status_code == 200:
                return resp.json(), seen
            seen.append(resp.status_code)
            if resp.status_code not in (409, 503):
                return None, seen
            time.sleep(float(resp.headers.get("Retry-After", "1")))
        return None, seen


def new_id():
    return str(uuid.uuid4())


def household_item(grid):
    data = {
        "grid_code": grid,
        "address": "杏园东路175号杏园小区3号楼2单元201室",
        "building": "3",
        "unit_no": "2",
        "room": "201",
        "head_name": "张三",
        "phone": "13812341234",
        "members": 3,
        "tags": ["elderly_alone"],
        "notes": "soak",
    }
    return {"op_id": new_id(), "entity": "household", "op": "create", "id": new_id(), "data": data}


def visit_item(household_id, rng):
    visited = datetime.now(SHANGHAI) - timedelta(minutes=rng.randint(0, 600))
    data = {
        "household_id": household_id,
        "visited_at": visited.isoformat(timespec="seconds"),
        "outcome": rng.choice(("met", "met", "met", "not_home", "refused")),
        "notes": "民情日记：入户走访，了解家庭情况。",
    }
    return {"op_id": new_id(), "entity": "visit", "op": "create", "id": new_id(), "data": data}


def problem_item(grid, household_id, visit_id, rng):
    data = {
        "grid_code": grid,
        "household_id": household_id,
        "visit_id": visit_id,
        "source": "visit",
        "category": rng.choice(CATEGORIES),
        "description": "楼道飞线充电，存在安全隐患",
        "urgency": rng.choice(("normal", "urgent")),
    }
    return {"op_id": new_id(), "entity": "problem", "op": "create", "id": new_id(), "data": data}


def batch(device, grid, households, pairs, rng):
    """A push body: one new household, then `pairs` visits each with a problem found on it.

    `households` (ids already stored for this grid) grows with the new one when it is acked.
    """
    first = household_item(grid)
    items = [first]
    targets = [first["id"], *households[-20:]]
    for _ in range(pairs):
        hid = rng.choice(targets)
        visit = visit_item(hid, rng)
        items.append(visit)
        items.append(problem_item(grid, hid, visit["id"], rng))
    return {"device_id": device, "device_time": datetime.now(SHANGHAI).isoformat(), "items": items}
