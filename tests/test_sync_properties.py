"""Property: whatever the network does (lost responses, replays, retries with new keys, several
devices), every item is stored exactly once and every pull converges to the same state."""

import tempfile
import uuid

from conftest import seed_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import GRID, GRID2, household_data, problem_data, visit_data

from survey_api import create_app
from survey_api.db import connect, write_tx
from survey_api.storage import users as user_store
from survey_api.tokens import issue_pair

DEVICES = [("worker", GRID), ("worker", GRID), ("worker2", GRID2)]
ACTIONS = ("new", "push", "push_lost", "replay", "resend_new_key", "edit")

steps = st.lists(
    st.tuples(st.integers(0, len(DEVICES) - 1), st.sampled_from(ACTIONS), st.integers(1, 4)),
    min_size=1,
    max_size=25,
)


class Device:
    def __init__(self, client, token, grid):
        self.client, self.grid = client, grid
        self.headers = {"Authorization": f"Bearer {token}"}
        self.outbox = []  # items not yet acknowledged
        self.last = None  # (key, body) of the last push sent
        self.versions = {}  # household id -> version this device last learned

    def add_records(self, n, made):
        for _ in range(n):
            hid, vid, pid = (str(uuid.uuid4()) for _ in range(3))
            self.outbox += [
                _item("household", "create", hid, household_data(grid=self.grid)),
                _item("visit", "create", vid, visit_data(hid)),
                _item(
                    "problem",
                    "create",
                    pid,
                    problem_data(grid=self.grid, household_id=hid, visit_id=vid),
                ),
            ]
            made["households"].add(hid)
            made["visits"].add(vid)
            made["problems"].add(pid)

    def add_edit(self, n):
        for hid, version in list(self.versions.items())[:n]:
            self.outbox.append(
                _item("household", "update", hid, {"notes": uuid.uuid4().hex}, base_version=version)
            )

    def send(self, key, body, lost=False):
        resp = self.client.post(
            "/api/v1/sync/push", json=body, headers={**self.headers, "Idempotency-Key": key}
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        self.last = (key, body)
        if not lost:
            self.learn(body["items"], resp.get_json()["results"])

    def push(self, lost=False):
        if self.outbox:
            self.send(uuid.uuid4().hex, {"device_id": "d", "items": list(self.outbox)}, lost)

    def learn(self, items, results):
        assert [r["op_id"] for r in results] == [i["op_id"] for i in items]
        done = set()
        for it, r in zip(items, results, strict=True):
            assert r["status"] in ("applied", "duplicate", "conflict", "rejected"), r
            if r["status"] == "rejected":
                assert r["retryable"], r  # nothing we send is invalid
                continue
            done.add(it["op_id"])
            if it["entity"] == "household" and r["status"] in ("applied", "duplicate"):
                self.versions[it["id"]] = r["version"]
            elif it["entity"] == "household" and r["status"] == "conflict":
                self.versions[it["id"]] = r["server"]["version"]
        self.outbox = [i for i in self.outbox if i["op_id"] not in done]


def _item(entity, op, record_id, data, base_version=None):
    it = {"op_id": str(uuid.uuid4()), "entity": entity, "op": op, "id": record_id, "data": data}
    if base_version is not None:
        it["base_version"] = base_version
    return it


def _pull_state(client, headers, limit, cursor=None, state=None):
    state = state if state is not None else {"households": {}, "problems": {}, "visits": {}}
    while True:
        resp = client.get(
            "/api/v1/sync/pull",
            query_string={"limit": limit, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert resp.status_code == 200
        body = resp.get_json()
        for kind, part in body["changes"].items():
            for record in part["upserted"]:
                state[kind][record["id"]] = record
            for record_id in part.get("deleted", []):
                state[kind].pop(record_id, None)
        for kind, record_ids in body["revoked"].items():
            for record_id in record_ids:
                state[kind].pop(record_id, None)
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return state, cursor


def _comparable(state):
    """Drop the fields that change with the time of reading."""
    out = {}
    for kind, records in state.items():
        out[kind] = {i: {k: v for k, v in r.items() if k != "overdue"} for i, r in records.items()}
    return out


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(steps=steps, limit=st.integers(1, 7))
def test_every_item_stored_exactly_once_and_pulls_converge(steps, limit):
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "h" * 40,
            "DATABASE": f"{tmp}/p.db",
            "BLOB_DIR": f"{tmp}/blobs",
        }
    )
    seed_tree(app.config["DATABASE"])
    client = app.test_client()
    conn = connect(app.config["DATABASE"])
    with app.app_context(), write_tx(conn):
        tokens = {
            name: issue_pair(conn, user_store.get_by_username(conn, name))["access_token"]
            for name in {"worker", "worker2"}
        }
    devices = [Device(client, tokens[user], grid) for user, grid in DEVICES]
    early = {
        name: _pull_state(client, {"Authorization": f"Bearer {t}"}, limit)
        for name, t in tokens.items()
    }
    made = {"households": set(), "visits": set(), "problems": set()}
    for index, action, n in steps:
        device = devices[index]
        if action == "new":
            device.add_records(n, made)
        elif action == "edit":
            device.add_edit(n)
        elif action == "push":
            device.push()
        elif action == "push_lost":
            device.push(lost=True)
        elif action == "replay" and device.last:
            device.send(*device.last)
        elif action == "resend_new_key" and device.last:
            device.send(uuid.uuid4().hex, device.last[1])
    for device in devices:  # back online for good: flush every outbox
        for _ in range(5):
            device.push()
        assert device.outbox == []

    for table, ids in made.items():
        stored = {r[0] for r in conn.execute(f"SELECT id FROM {table}")}
        assert stored == ids
    assert conn.execute("SELECT count(*) FROM changes WHERE entity = 'visit'").fetchone()[0] == len(
        made["visits"]
    )
    assert conn.execute("SELECT count(*) FROM problem_events WHERE action = 'report'").fetchone()[
        0
    ] == len(made["problems"])
    numbers = conn.execute("SELECT coalesce(sum(last), 0) FROM problem_counters").fetchone()[0]
    assert numbers == len(made["problems"])  # numbers are gap-free: no rolled-back duplicate
    conn.close()

    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        fresh, _ = _pull_state(client, headers, 1000)
        state, cursor = early[name]
        incremental, _ = _pull_state(client, headers, limit, cursor, state)
        assert _comparable(incremental) == _comparable(fresh)
        for kind, records in fresh.items():
            for record_id, record in list(records.items())[:5]:
                got = client.get(f"/api/v1/{kind}/{record_id}", headers=headers).get_json()
                assert _comparable({kind: {record_id: got}}) == _comparable(
                    {kind: {record_id: record}}
                )
