"""The problem lifecycle: the one state machine every action goes through.

``TRANSITIONS`` is the whole table — action × from-states × who may do it — and
``apply_action`` is the one entry point, used by ``POST /problems/{id}/actions`` and by
the ``problem_action`` push items alike. It runs inside the caller's write transaction.

Checks, in order (the first that fails decides the answer):

1. visibility  — the problem exists and lies in the caller's scope, else 404 ``NOT_FOUND``
   (no existence leak); a visible but deleted (withdrawn) problem is 410 ``GONE``, as its
   ``GET`` is;
2. validation  — ``action`` known, ``base_version`` a positive integer, the action's
   parameters valid (unknown ones refused; an ``extend`` due in the past; an ``assign``
   naming an unknown unit or user), else 422 ``VALIDATION_ERROR``;
3. permission  — the caller's role may do this action at the problem's current level, else
   403 ``ACTION_FORBIDDEN``; a unit or user named by ``assign`` outside the caller's scope
   → 403 ``OUT_OF_SCOPE``;
4. version     — ``base_version`` equals the stored version, else 409 ``STALE_VERSION``;
5. state       — the current status (and level, rating) allows the action, else 409
   ``INVALID_TRANSITION``. Both 409s carry the current record under ``current``.

Every applied action bumps ``version`` once and appends exactly one event.
"""

from dataclasses import dataclass
from datetime import timedelta

from marshmallow import ValidationError

from schemas.problem_actions import ACTIONS, PARAMS

from .. import timeutil
from ..db import write_tx
from ..errors import ApiError, flatten_errors
from ..roles import ADMIN, DISTRICT_ADMIN, GRID_WORKER, LEVELS, SECRETARY, STREET_ADMIN
from ..statuses import (  # noqa: F401  (re-exported: callers name lifecycle.OPEN)
    ACCEPTED,
    ASSIGNED,
    CLOSED,
    OPEN,
    RECTIFIED,
    RECTIFYING,
    REJECTED,
    REPORTED,
    STATUSES,
    SUSPENDED,
)
from ..storage import audit
from ..storage import categories as category_store
from ..storage import problems as problem_store
from ..storage import units as unit_store
from ..storage import users as user_store
from ..storage.overdue import is_overdue
from . import deadlines
from .records import visible_row

# Special targets: the status stays; resume goes back to where suspend left it; verify
# depends on its `ok` parameter.
SAME, PREVIOUS, BY_OUTCOME = "=", "<previous>", "<closed|rectifying>"
# An extension further away than this is a typing error, not a plan.
MAX_EXTEND_DAYS = 366 * 2

# Who may act. `level` is the problem's current level.
HANDLERS = "handlers"  # may accept: secretary (grid, community), street admin (up to
# street), district admin (any), admin (any)
WORKERS = "workers"  # the grid workers of its grid, and the handlers
ESCALATORS = "escalators"  # the handlers, and a grid worker while the level is grid
SUPERVISORS = "supervisors"  # street admin, district admin, admin — at any level

HANDLER_LEVELS = {
    SECRETARY: ("grid", "community"),
    STREET_ADMIN: ("grid", "community", "street"),
    DISTRICT_ADMIN: LEVELS,
    ADMIN: LEVELS,
}


@dataclass(frozen=True)
class Rule:
    from_states: tuple
    to_state: str
    who: str


TRANSITIONS = {
    "accept": Rule((REPORTED,), ACCEPTED, HANDLERS),
    "reject": Rule((REPORTED,), REJECTED, HANDLERS),
    "assign": Rule((ACCEPTED,), ASSIGNED, HANDLERS),
    "start": Rule((ASSIGNED,), RECTIFYING, WORKERS),
    "rectify": Rule((RECTIFYING,), RECTIFIED, WORKERS),
    "verify": Rule((RECTIFIED,), BY_OUTCOME, HANDLERS),
    "escalate": Rule(OPEN, SAME, ESCALATORS),  # level + 1; not beyond district
    "extend": Rule(OPEN, SAME, HANDLERS),
    "suspend": Rule(tuple(s for s in OPEN if s != SUSPENDED), SUSPENDED, HANDLERS),
    "resume": Rule((SUSPENDED,), PREVIOUS, HANDLERS),
    "rate": Rule((CLOSED,), SAME, HANDLERS),  # once per closing
    "reopen": Rule((CLOSED,), RECTIFYING, HANDLERS),  # only after a rating of 1 or 2
    "supervise": Rule(OPEN, SAME, SUPERVISORS),
}
assert set(TRANSITIONS) == set(ACTIONS)


def may(role, who, level):
    """True when a role may do an action of this `who` group at this problem level."""
    handler = level in HANDLER_LEVELS.get(role, ())
    if who == HANDLERS:
        return handler
    if who == WORKERS:
        return handler or role == GRID_WORKER
    if who == ESCALATORS:
        return handler or (role == GRID_WORKER and level == "grid")
    if who == SUPERVISORS:
        return role in (STREET_ADMIN, DISTRICT_ADMIN, ADMIN)
    raise ValueError(who)


def actions_now(scope, row):
    """The actions this scope may do on this problem now, in TRANSITIONS order.

    The console offers exactly these (each one's role, level and state checks are the ones
    apply_action makes). A problem outside the scope or deleted has none.
    """
    if row is None or row["deleted"] or not scope.holds_grid(row["grid_code"]):
        return []
    return [
        action
        for action, rule in TRANSITIONS.items()
        if may(scope.role, rule.who, row["level"]) and state_refusal(action, row) is None
    ]


def next_level(level):
    """The level above (grid → community → street → district), None at district."""
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def state_refusal(action, row):
    """Why the problem's state does not allow the action (None when it does)."""
    rule = TRANSITIONS[action]
    status = row["status"]
    if status not in rule.from_states:
        return f"A {status} problem cannot be {_past(action)}."
    if action == "escalate" and next_level(row["level"]) is None:
        return "The problem is at district level already; it cannot be escalated further."
    if action == "rate" and row["rating"] is not None:
        return "The problem was rated already; it can be rated once per closing."
    if action == "reopen" and (row["rating"] is None or row["rating"] > 2):
        return "Only a problem rated 1 or 2 can be reopened."
    return None


def _past(action):
    return {
        "accept": "accepted",
        "reject": "rejected",
        "assign": "assigned",
        "start": "started",
        "rectify": "rectified",
        "verify": "verified",
        "escalate": "escalated",
        "extend": "extended",
        "suspend": "suspended",
        "resume": "resumed",
        "rate": "rated",
        "reopen": "reopened",
        "supervise": "supervised",
    }[action]


# --- validation ------------------------------------------------------------------------


def _validate(conn, base_version, data, now):
    """(action, params) or a 422 with errors keyed by field (relative to data)."""
    errors = {}
    if base_version is None:
        errors["base_version"] = ["Missing data for required field."]
    elif isinstance(base_version, bool) or not isinstance(base_version, int) or base_version < 1:
        errors["base_version"] = ["Must be an integer of at least 1."]
    if not isinstance(data, dict):
        errors["_schema"] = ["The action must be a JSON object."]
        raise ApiError(422, "VALIDATION_ERROR", "The action did not validate.", errors=errors)
    action = data.get("action")
    if action is None:
        errors["action"] = ["Missing data for required field."]
    elif not isinstance(action, str) or action not in TRANSITIONS:
        errors["action"] = [f"Must be one of: {', '.join(ACTIONS)}."]
    params = None
    if "action" not in errors:
        raw = {k: v for k, v in data.items() if k != "action"}
        try:
            params = PARAMS[action]().load(raw)
        except ValidationError as e:
            for key, messages in flatten_errors(e.messages).items():
                # A nested object of the wrong type: name the field, not "field._schema".
                errors[key.removesuffix("._schema")] = messages
        else:
            errors.update(_check_values(conn, action, params, now))
    if errors:
        raise ApiError(422, "VALIDATION_ERROR", "The action did not validate.", errors=errors)
    return action, params


def _check_values(conn, action, params, now):
    """Checks that need the clock or the database."""
    errors = {}
    if action == "extend":
        if params["due_at"] <= now:
            errors["due_at"] = ["The new due time must be in the future."]
        elif params["due_at"] > now + timedelta(days=MAX_EXTEND_DAYS):
            errors["due_at"] = [f"At most {MAX_EXTEND_DAYS} days ahead."]
    if action == "assign":
        if unit_store.get(conn, params["responsible_unit"]) is None:
            errors["responsible_unit"] = ["No such unit."]
        user_id = params.get("responsible_user_id")
        if user_id and user_store.get(conn, user_id.lower()) is None:
            errors["responsible_user_id"] = ["No such user."]
    return errors


def _check_named_scope(conn, scope, action, params):
    """A unit or user named by assign must lie in the caller's scope."""
    if action != "assign" or scope.is_admin:
        return
    if not scope.holds_code(params["responsible_unit"]):
        raise ApiError(
            403, "OUT_OF_SCOPE", f"Unit {params['responsible_unit']} is outside your scope."
        )
    user_id = params.get("responsible_user_id")
    if user_id:
        user = user_store.get(conn, user_id.lower())
        if not any(scope.holds_code(code) for code in user["unit_codes"]):
            raise ApiError(403, "OUT_OF_SCOPE", "That user is outside your scope.")


# --- the actions -----------------------------------------------------------------------
# Each returns (fields to update, to_status, event note, event payload).


def _due_from(conn, row, now):
    """A fresh deadline counted from now: the category's working days, or 24 h if urgent."""
    urgent = row["urgency"] == "urgent"
    days = category_store.working_days(conn, row["category"])
    due, estimated = deadlines.due_after(conn, now, days, urgent=urgent)
    return due, estimated, (None if urgent else days)


def _accept(conn, scope, row, p, now):
    due, estimated, days = _due_from(conn, row, now)
    # An extension granted before acceptance is not shortened by the acceptance.
    if row["due_at"] and timeutil.parse_iso(row["due_at"]) > due:
        due, estimated = timeutil.parse_iso(row["due_at"]), bool(row["due_estimated"])
    fields = {
        "accepted_at": timeutil.iso(now),
        "due_at": timeutil.iso(due),
        "due_estimated": int(estimated),
    }
    payload = {"due_at": fields["due_at"], "due_estimated": estimated, "working_days": days}
    return fields, ACCEPTED, p.get("note"), payload


def _reject(conn, scope, row, p, now):
    return {}, REJECTED, p.get("note"), {}


def _assign(conn, scope, row, p, now):
    user_id = p.get("responsible_user_id")
    fields = {
        "responsible_unit": p["responsible_unit"],
        "responsible_person": p["responsible_person"],
        "responsible_user_id": user_id.lower() if user_id else None,
    }
    return fields, ASSIGNED, p.get("note"), dict(fields)


def _start(conn, scope, row, p, now):
    return {}, RECTIFYING, p.get("note"), {}


def _rectify(conn, scope, row, p, now):
    fields = {"measures": p["measures"], "rectified_at": timeutil.iso(now)}
    payload = {"measures": p["measures"]}
    if "photos_after" in p:
        fields["photos_after"] = list(dict.fromkeys(p["photos_after"]))
        payload["photos_after"] = fields["photos_after"]
    if "cost_share" in p:
        share = p["cost_share"] or {}
        for key in ("resident", "society", "subsidy"):
            fields[f"cost_share_{key}"] = share.get(key)
        payload["cost_share"] = p["cost_share"]
    return fields, RECTIFIED, p.get("note"), payload


def _verify(conn, scope, row, p, now):
    if p["ok"]:
        at = timeutil.iso(now)
        fields = {"verified_by": scope.user_id, "verified_at": at, "closed_at": at}
        return fields, CLOSED, p.get("note"), {"ok": True}
    fields = {"rectified_at": None, "verified_by": None, "verified_at": None}
    return fields, RECTIFYING, p.get("note"), {"ok": False}


def _escalate(conn, scope, row, p, now):
    level = next_level(row["level"])
    unit = unit_store.ancestor_of_level(conn, row["grid_code"], level)
    fields = {"level": level}
    if unit is not None:
        fields["responsible_unit"] = unit["code"]
    payload = {
        "from_level": row["level"],
        "to_level": level,
        "responsible_unit": fields.get("responsible_unit", row["responsible_unit"]),
    }
    return fields, row["status"], p.get("note"), payload


def _extend(conn, scope, row, p, now):
    due = timeutil.iso(p["due_at"])
    payload = {"due_at": due, "previous_due_at": row["due_at"], "reason": p["reason"]}
    return {"due_at": due, "due_estimated": 0}, row["status"], p["reason"], payload


def _suspend(conn, scope, row, p, now):
    fields = {"suspended_from": row["status"], "suspended_at": timeutil.iso(now)}
    return fields, SUSPENDED, p.get("note"), {"suspended_from": row["status"]}


def _resume(conn, scope, row, p, now):
    back = row["suspended_from"] or REPORTED
    fields = {"suspended_from": None, "suspended_at": None}
    payload = {
        "suspended_at": row["suspended_at"],
        "working_days_suspended": 0,
        "previous_due_at": row["due_at"],
        "due_at": row["due_at"],
    }
    if row["suspended_at"]:
        since = timeutil.local_date(timeutil.parse_iso(row["suspended_at"]))
        lost, est_lost = deadlines.working_days_between(conn, since, timeutil.local_date(now))
        payload["working_days_suspended"] = lost
        if row["due_at"] and lost:
            due, est_due = deadlines.shift_due(conn, timeutil.parse_iso(row["due_at"]), lost)
            fields["due_at"] = payload["due_at"] = timeutil.iso(due)
            fields["due_estimated"] = int(bool(row["due_estimated"]) or est_lost or est_due)
    return fields, back, p.get("note"), payload


def _rate(conn, scope, row, p, now):
    fields = {"rating": p["rating"], "rating_comment": p.get("rating_comment")}
    return fields, CLOSED, None, dict(fields)


def _reopen(conn, scope, row, p, now):
    due, estimated, days = _due_from(conn, row, now)
    fields = {
        "rating": None,
        "rating_comment": None,
        "verified_by": None,
        "verified_at": None,
        "closed_at": None,
        "rectified_at": None,
        "due_at": timeutil.iso(due),
        "due_estimated": int(estimated),
    }
    payload = {
        "previous_rating": row["rating"],
        "due_at": fields["due_at"],
        "due_estimated": estimated,
        "working_days": days,
    }
    return fields, RECTIFYING, p.get("note"), payload


def _supervise(conn, scope, row, p, now):
    payload = {"overdue": is_overdue(row, timeutil.iso(now))}
    return {"supervised": 1}, row["status"], p["note"], payload


APPLY = {
    "accept": _accept,
    "reject": _reject,
    "assign": _assign,
    "start": _start,
    "rectify": _rectify,
    "verify": _verify,
    "escalate": _escalate,
    "extend": _extend,
    "suspend": _suspend,
    "resume": _resume,
    "rate": _rate,
    "reopen": _reopen,
    "supervise": _supervise,
}


# --- the entry point -------------------------------------------------------------------

# The clock actions read (tests replace it to act on a given day).
clock = timeutil.now


def apply_action(conn, scope, problem_id, base_version, data, *, at_client=None):
    """Apply one action inside the caller's write transaction; the updated problem.

    data = {"action": ..., **parameters}. Raises ApiError (see the module docstring).
    at_client, when given (a push item's device time, ISO text or datetime), is kept as
    updated_at_client.
    """
    now = clock()
    row = problem_store.get_row(conn, problem_id) if isinstance(problem_id, str) else None
    visible_row(scope, row, "problem")
    action, params = _validate(conn, base_version, data, now)
    rule = TRANSITIONS[action]
    if not may(scope.role, rule.who, row["level"]):
        raise ApiError(
            403,
            "ACTION_FORBIDDEN",
            f"A {scope.role} may not {action} a problem at {row['level']} level.",
        )
    _check_named_scope(conn, scope, action, params)
    if base_version != row["version"]:
        raise ApiError(
            409,
            "STALE_VERSION",
            f"The problem is at version {row['version']}, not {base_version}.",
            current=problem_store.load_api(conn, problem_id),
        )
    refusal = state_refusal(action, row)
    if refusal:
        raise ApiError(
            409, "INVALID_TRANSITION", refusal, current=problem_store.load_api(conn, problem_id)
        )
    fields, to_status, note, payload = APPLY[action](conn, scope, row, params, now)
    fields["status"] = to_status
    if at_client is not None:
        fields["updated_at_client"] = (
            at_client if isinstance(at_client, str) else at_client.isoformat()
        )
    problem_store.update(conn, problem_id, fields)
    problem_store.add_event(
        conn,
        problem_id,
        action=action,
        from_status=row["status"],
        to_status=to_status,
        actor_id=scope.user_id,
        note=note,
        payload=payload,
        at=timeutil.iso(now),
    )
    return problem_store.load_api(conn, problem_id)


def act(conn, scope, problem_id, base_version, data, ip):
    """One action in its own write transaction, audited: the API's and the console's door."""
    with write_tx(conn):
        problem = apply_action(conn, scope, problem_id, base_version, data)
        audit.record(
            conn,
            actor=scope.user_id,
            action=f"problem.{data['action']}",
            target=problem["id"],
            ip=ip,
            details={"version": problem["version"]},
        )
    return problem
