"""The state machine table: every action from every state, every role at every level."""

import pytest
from conftest import seed_tree
from lifecycle_helpers import STATES, make_problem, scope_for, valid_params

from survey_api import create_app
from survey_api.db import connect, write_tx
from survey_api.errors import ApiError
from survey_api.services.lifecycle import apply_action

# Written out from DESIGN §4 and Appendix A, independently of services/lifecycle.py:
# action -> {state it may start from: status it ends in}.
OPEN = ("reported", "accepted", "assigned", "rectifying", "rectified", "suspended")
ALLOWED = {
    "accept": {"reported": "accepted"},
    "reject": {"reported": "rejected"},
    "assign": {"accepted": "assigned"},
    "start": {"assigned": "rectifying"},
    "rectify": {"rectifying": "rectified"},
    "verify": {"rectified": "closed"},
    "escalate": {s: s for s in OPEN},
    "extend": {s: s for s in OPEN},
    "suspend": {s: "suspended" for s in OPEN if s != "suspended"},
    "resume": {"suspended": "assigned"},  # back to the state it was suspended from
    "rate": {"closed": "closed"},  # once per closing
    "reopen": {"closed_rated_low": "rectifying"},  # only after a rating of 1 or 2
    "supervise": {s: s for s in OPEN},
}
STATUS_OF = {s: ("closed" if s.startswith("closed") else s) for s in STATES}
TABLE = [(action, state) for action in ALLOWED for state in STATES]

# Who may, per role and problem level (Appendix A "Who may act on a problem").
LEVELS = ("grid", "community", "street", "district")
HANDLER_LEVELS = {
    "secretary": ("grid", "community"),
    "street": ("grid", "community", "street"),
    "district": LEVELS,
    "admin": LEVELS,
    "worker": (),
}
ROLE_USERS = ("worker", "secretary", "street", "district", "admin")
START_STATE = {
    "accept": "reported",
    "reject": "reported",
    "assign": "accepted",
    "start": "assigned",
    "rectify": "rectifying",
    "verify": "rectified",
    "escalate": "assigned",
    "extend": "accepted",
    "suspend": "assigned",
    "resume": "suspended",
    "rate": "closed",
    "reopen": "closed_rated_low",
    "supervise": "accepted",
}


def may(user, action, level):
    handler = level in HANDLER_LEVELS[user]
    if action in ("start", "rectify"):
        return handler or user == "worker"
    if action == "escalate":
        return handler or (user == "worker" and level == "grid")
    if action == "supervise":
        return user in ("street", "district", "admin")
    return handler


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("lifecycle") / "survey.db")
    create_app(
        {"TESTING": True, "SECRET_KEY": "k" * 40, "DATABASE": path, "BLOB_DIR": path + ".blobs"}
    )
    ids = seed_tree(path)
    conn = connect(path)
    yield conn, ids
    conn.close()


def act(conn, scope, problem_id, data, base_version=1):
    with write_tx(conn):
        return apply_action(conn, scope, problem_id, base_version, data)


@pytest.mark.parametrize("action,state", TABLE, ids=[f"{a}-from-{s}" for a, s in TABLE])
def test_transition_table(db, action, state):
    conn, ids = db
    problem_id = make_problem(conn, state)
    admin = scope_for(conn, ids["admin"])
    expected = ALLOWED[action].get(state)
    if expected is None:
        with pytest.raises(ApiError) as e:
            act(conn, admin, problem_id, valid_params(action))
        assert (e.value.status, e.value.code) == (409, "INVALID_TRANSITION")
        current = e.value.extra["current"]
        assert current["id"] == problem_id and current["version"] == 1
        assert current["status"] == STATUS_OF[state]
        assert len(current["events"]) == 1  # nothing written
        return
    problem = act(conn, admin, problem_id, valid_params(action))
    assert problem["status"] == expected
    assert problem["version"] == 2
    assert len(problem["events"]) == 2
    event = problem["events"][-1]
    assert event["action"] == action
    assert event["from_status"] == STATUS_OF[state]
    assert event["to_status"] == expected
    assert event["actor_id"] == ids["admin"]
    assert event["at"] and isinstance(event["payload"], dict)


MATRIX = [(a, lvl, u) for a in START_STATE for lvl in LEVELS for u in ROLE_USERS]


@pytest.mark.parametrize(
    "action,level,user", MATRIX, ids=[f"{a}-{lvl}-{u}" for a, lvl, u in MATRIX]
)
def test_who_may_act(db, action, level, user):
    conn, ids = db
    problem_id = make_problem(conn, START_STATE[action], level=level)
    scope = scope_for(conn, ids[user])
    if not may(user, action, level):
        with pytest.raises(ApiError) as e:
            act(conn, scope, problem_id, valid_params(action))
        assert (e.value.status, e.value.code) == (403, "ACTION_FORBIDDEN")
        return
    if action == "escalate" and level == "district":
        with pytest.raises(ApiError) as e:
            act(conn, scope, problem_id, valid_params(action))
        assert (e.value.status, e.value.code) == (409, "INVALID_TRANSITION")
        return
    problem = act(conn, scope, problem_id, valid_params(action))
    assert problem["events"][-1]["action"] == action


@pytest.mark.parametrize("user", ["secretary2", "worker2", "worker3", "street2"])
@pytest.mark.parametrize("action", list(START_STATE))
def test_invisible_problem_is_404_for_every_action(db, user, action):
    conn, ids = db
    problem_id = make_problem(conn, START_STATE[action])
    with pytest.raises(ApiError) as e:
        act(conn, scope_for(conn, ids[user]), problem_id, valid_params(action))
    assert (e.value.status, e.value.code) == (404, "NOT_FOUND")


def test_check_order_visibility_validation_permission_version_state(db):
    conn, ids = db
    problem_id = make_problem(conn, "closed")  # accept would be an invalid transition
    worker = scope_for(conn, ids["worker"])
    bad = {"action": "accept", "rating": 3}
    with pytest.raises(ApiError) as e:  # invisible beats everything
        act(conn, scope_for(conn, ids["secretary2"]), problem_id, bad, base_version=7)
    assert e.value.code == "NOT_FOUND"
    with pytest.raises(ApiError) as e:  # then validation
        act(conn, worker, problem_id, bad, base_version=7)
    assert e.value.code == "VALIDATION_ERROR" and set(e.value.errors) == {"rating"}
    with pytest.raises(ApiError) as e:  # then permission
        act(conn, worker, problem_id, {"action": "accept"}, base_version=7)
    assert e.value.code == "ACTION_FORBIDDEN"
    secretary = scope_for(conn, ids["secretary"])
    with pytest.raises(ApiError) as e:  # then version
        act(conn, secretary, problem_id, {"action": "accept"}, base_version=7)
    assert e.value.code == "STALE_VERSION" and e.value.extra["current"]["version"] == 1
    with pytest.raises(ApiError) as e:  # then state
        act(conn, secretary, problem_id, {"action": "accept"}, base_version=1)
    assert e.value.code == "INVALID_TRANSITION"
