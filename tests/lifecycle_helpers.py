"""Helpers for the lifecycle tests: problems put straight into a state, scopes, parameters."""

import uuid
from datetime import timedelta

from survey_api.db import write_tx
from survey_api.scope import Scope
from survey_api.storage import problems as problem_store
from survey_api.storage import users as user_store
from survey_api.timeutil import iso, now

GRID = "370303001001-01"
COMMUNITY = "370303001001"


def _state_fields(state):
    """Columns a problem has when it is in `state` (as if the lifecycle had got it there)."""
    t = now()
    accepted = {"accepted_at": iso(t - timedelta(days=2)), "due_at": iso(t + timedelta(days=3))}
    assigned = {**accepted, "responsible_person": "王师傅"}
    rectified = {**assigned, "measures": "换了线", "rectified_at": iso(t - timedelta(hours=1))}
    closed = {**rectified, "verified_by": None, "verified_at": iso(t), "closed_at": iso(t)}
    return {
        "reported": {"status": "reported"},
        "accepted": {"status": "accepted", **accepted},
        "assigned": {"status": "assigned", **assigned},
        "rectifying": {"status": "rectifying", **assigned},
        "rectified": {"status": "rectified", **rectified},
        "closed": {"status": "closed", **closed},
        "closed_rated_low": {"status": "closed", **closed, "rating": 2},
        "closed_rated_high": {"status": "closed", **closed, "rating": 4},
        "rejected": {"status": "rejected"},
        "suspended": {
            "status": "suspended",
            **assigned,
            "suspended_from": "assigned",
            "suspended_at": iso(t - timedelta(hours=2)),
        },
    }[state]


STATES = (
    "reported",
    "accepted",
    "assigned",
    "rectifying",
    "rectified",
    "closed",
    "closed_rated_low",
    "closed_rated_high",
    "rejected",
    "suspended",
)


def make_problem(
    conn,
    state="reported",
    *,
    grid=GRID,
    level="grid",
    category="safety.fire",
    urgency="normal",
    **extra,
):
    """Insert a problem (with its report event) directly in the given state; returns its id."""
    problem_id = str(uuid.uuid4())
    community = grid.split("-")[0]
    with write_tx(conn):
        number = problem_store.next_number(conn, community, now().year)
        fields = {
            "grid_code": grid,
            "community_code": community,
            "source": "visit",
            "category": category,
            "description": "楼道飞线充电",
            "urgency": urgency,
            "level": level,
        }
        problem_store.insert(conn, problem_id, number, fields)
        problem_store.add_event(
            conn, problem_id, action="report", from_status=None, to_status="reported", actor_id=None
        )
        state_fields = {**_state_fields(state), **extra}
        if state_fields != {"status": "reported"}:
            # Straight to the state without bumping version past 1.
            problem_store.update(conn, problem_id, state_fields)
            conn.execute("UPDATE problems SET version = 1 WHERE id = ?", (problem_id,))
    return problem_id


def scope_for(conn, user_id):
    return Scope(conn, user_store.get(conn, user_id))


def valid_params(action):
    """A valid body (without base_version) for each action."""
    return {
        "accept": {"action": "accept", "note": "受理"},
        "reject": {"action": "reject", "note": "不属实"},
        "assign": {"action": "assign", "responsible_unit": GRID, "responsible_person": "王师傅"},
        "start": {"action": "start"},
        "rectify": {"action": "rectify", "measures": "拆除飞线，安装充电桩"},
        "verify": {"action": "verify", "ok": True},
        "escalate": {"action": "escalate", "note": "需社区协调"},
        "extend": {
            "action": "extend",
            "due_at": iso(now() + timedelta(days=20)),
            "reason": "等待配件",
        },
        "suspend": {"action": "suspend", "note": "等待产权单位"},
        "resume": {"action": "resume"},
        "rate": {"action": "rate", "rating": 4, "rating_comment": "满意"},
        "reopen": {"action": "reopen", "note": "居民不满意"},
        "supervise": {"action": "supervise", "note": "请尽快办理"},
    }[action]
