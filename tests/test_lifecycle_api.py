"""POST /problems/{id}/actions end to end: the walk from report to rated, and each rule."""

from datetime import datetime, timedelta

import pytest
from conftest import Auth, assert_problem, seed_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_api import create_app
from survey_api.db import connect, write_tx
from survey_api.services import lifecycle
from survey_api.storage import problems as problem_store
from survey_api.timeutil import SHANGHAI, iso, now, parse_iso

API = "/api/v1"
GRID = "370303001001-01"


# One database for the module (every test reports its own problems): logins are the slow part.
@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = tmp_path_factory.mktemp("lifecycle_api")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 48,
            "DATABASE": str(path / "survey.db"),
            "BLOB_DIR": str(path / "blobs"),
        }
    )
    app.config["USER_IDS"] = seed_tree(app.config["DATABASE"])
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def auth(client):
    return Auth(client)


@pytest.fixture(scope="module")
def user_ids(app):
    return app.config["USER_IDS"]


@pytest.fixture
def report(client, auth):
    """Report a problem through the API as the grid worker; returns its body."""

    def _report(**extra):
        body = {
            "grid_code": GRID,
            "category": "safety.flying_wires",
            "description": "3号楼楼道飞线充电",
            **extra,
        }
        resp = client.post(f"{API}/problems", json=body, headers=auth.headers("worker"))
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    return _report


@pytest.fixture
def act(client, auth):
    """POST an action; returns the response."""

    def _act(user, problem, action, base_version=None, **params):
        version = problem["version"] if base_version is None else base_version
        return client.post(
            f"{API}/problems/{problem['id']}/actions",
            json={"action": action, "base_version": version, **params},
            headers=auth.headers(user),
        )

    return _act


def ok(resp):
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.fixture
def clock(monkeypatch):
    """Set the time actions see: clock.set(datetime)."""

    class Clock:
        def set(self, dt):
            monkeypatch.setattr(lifecycle, "clock", lambda: dt)

    return Clock()


def test_walk_from_report_to_closed_and_rated(client, auth, report, act, user_ids):
    p = report()
    assert (p["status"], p["level"], p["version"]) == ("reported", "grid", 1)
    p = ok(act("secretary", p, "accept", note="已受理"))
    assert p["status"] == "accepted" and p["accepted_at"] and p["due_at"]
    assert p["due_estimated"] in (True, False)
    p = ok(
        act(
            "secretary",
            p,
            "assign",
            responsible_unit=GRID,
            responsible_person="王师傅",
            responsible_user_id=user_ids["worker"],
        )
    )
    assert (p["responsible_unit"], p["responsible_person"], p["responsible_user_id"]) == (
        GRID,
        "王师傅",
        user_ids["worker"],
    )
    p = ok(act("worker", p, "start"))
    assert p["status"] == "rectifying"
    sha = "a" * 64
    p = ok(
        act(
            "worker",
            p,
            "rectify",
            measures="拆除飞线，安装集中充电桩",
            photos_after=[sha],
            cost_share={"resident": 50, "society": 200.5, "subsidy": 300},
        )
    )
    assert p["status"] == "rectified" and p["rectified_at"]
    assert p["measures"] == "拆除飞线，安装集中充电桩" and p["photos_after"] == [sha]
    assert p["cost_share"] == {"resident": 50, "society": 200.5, "subsidy": 300}
    assert p["photos_missing"] == [sha]
    p = ok(act("secretary", p, "verify", ok=True, note="现场核实"))
    assert p["status"] == "closed" and p["closed_at"] and p["verified_at"]
    assert p["verified_by"] == user_ids["secretary"]
    p = ok(act("secretary", p, "rate", rating=5, rating_comment="很满意"))
    assert (p["status"], p["rating"], p["rating_comment"]) == ("closed", 5, "很满意")
    assert p["version"] == 7
    got = client.get(f"{API}/problems/{p['id']}", headers=auth.headers("secretary")).get_json()
    trail = [(e["action"], e["from_status"], e["to_status"]) for e in got["events"]]
    assert trail == [
        ("report", None, "reported"),
        ("accept", "reported", "accepted"),
        ("assign", "accepted", "assigned"),
        ("start", "assigned", "rectifying"),
        ("rectify", "rectifying", "rectified"),
        ("verify", "rectified", "closed"),
        ("rate", "closed", "closed"),
    ]
    assert got["events"][1]["note"] == "已受理"
    assert got["events"][1]["actor_id"] == user_ids["secretary"]
    assert got["events"][2]["payload"]["responsible_person"] == "王师傅"
    assert got["events"][6]["payload"] == {"rating": 5, "rating_comment": "很满意"}
    assert got == p


def test_response_has_etag_and_audit(client, auth, report, act):
    p = report()
    resp = act("secretary", p, "accept")
    assert resp.headers["ETag"] == '"2"'
    audit = client.get(f"{API}/audit?action=problem.accept", headers=auth.headers("admin"))
    if audit.status_code == 200:
        assert audit.get_json()["items"][0]["target"] == p["id"]


def test_verify_fail_returns_to_rectifying_and_clears_rectified_at(report, act):
    p = report()
    for user, action, params in [
        ("secretary", "accept", {}),
        ("secretary", "assign", {"responsible_unit": GRID, "responsible_person": "王"}),
        ("worker", "start", {}),
        ("worker", "rectify", {"measures": "修"}),
    ]:
        p = ok(act(user, p, action, **params))
    assert p["cost_share"] is None
    p = ok(act("secretary", p, "verify", ok=False, note="没修好"))
    assert p["status"] == "rectifying"
    assert p["rectified_at"] is None and p["verified_at"] is None and p["closed_at"] is None
    assert p["events"][-1]["payload"] == {"ok": False}
    p = ok(act("worker", p, "rectify", measures="重新修", cost_share={"subsidy": 80}))
    assert p["status"] == "rectified"
    assert p["cost_share"] == {"resident": 0, "society": 0, "subsidy": 80}


def _to_closed(report, act):
    p = report()
    for user, action, params in [
        ("secretary", "accept", {}),
        ("secretary", "assign", {"responsible_unit": GRID, "responsible_person": "王"}),
        ("worker", "start", {}),
        ("worker", "rectify", {"measures": "修"}),
        ("secretary", "verify", {"ok": True}),
    ]:
        p = ok(act(user, p, action, **params))
    return p


def test_rate_once_per_closing(report, act):
    p = ok(act("secretary", _to_closed(report, act), "rate", rating=4))
    body = assert_problem(act("secretary", p, "rate", rating=5), 409, "INVALID_TRANSITION")
    assert body["current"]["rating"] == 4 and body["current"]["version"] == p["version"]


def test_reopen_after_low_rating_then_rate_again(report, act, clock):
    p = ok(act("secretary", _to_closed(report, act), "rate", rating=2, rating_comment="不满意"))
    reopen_at = now() + timedelta(days=1)
    clock.set(reopen_at)
    p = ok(act("secretary", p, "reopen", note="重办"))
    assert p["status"] == "rectifying"
    assert p["rating"] is None and p["rating_comment"] is None
    assert p["verified_by"] is None and p["verified_at"] is None and p["closed_at"] is None
    assert parse_iso(p["due_at"]) > reopen_at
    assert p["events"][-1]["payload"]["previous_rating"] == 2
    clock.set(now())
    p = ok(act("worker", p, "rectify", measures="再修"))
    p = ok(act("secretary", p, "verify", ok=True))
    p = ok(act("secretary", p, "rate", rating=5))
    assert p["rating"] == 5


@pytest.mark.parametrize("rating", [3, 4, 5])
def test_reopen_refused_after_good_rating(report, act, rating):
    p = ok(act("secretary", _to_closed(report, act), "rate", rating=rating))
    assert_problem(act("secretary", p, "reopen"), 409, "INVALID_TRANSITION")


def test_reopen_refused_before_rating(report, act):
    assert_problem(act("secretary", _to_closed(report, act), "reopen"), 409, "INVALID_TRANSITION")


def test_escalate_up_to_district(report, act):
    p = report()
    p = ok(act("worker", p, "escalate", note="网格解决不了"))
    assert (p["level"], p["status"], p["responsible_unit"]) == (
        "community",
        "reported",
        "370303001001",
    )
    assert p["events"][-1]["payload"] == {
        "from_level": "grid",
        "to_level": "community",
        "responsible_unit": "370303001001",
    }
    assert_problem(act("worker", p, "escalate"), 403, "ACTION_FORBIDDEN")
    p = ok(act("secretary", p, "escalate"))
    assert (p["level"], p["responsible_unit"]) == ("street", "370303001000")
    # The secretary still sees it but no longer handles it.
    assert_problem(act("secretary", p, "accept"), 403, "ACTION_FORBIDDEN")
    p = ok(act("street", p, "accept"))
    p = ok(act("street", p, "escalate"))
    assert (p["level"], p["status"], p["responsible_unit"]) == ("district", "accepted", "370303")
    assert_problem(
        act("street", p, "assign", responsible_unit=GRID, responsible_person="x"),
        403,
        "ACTION_FORBIDDEN",
    )
    body = assert_problem(act("district", p, "escalate"), 409, "INVALID_TRANSITION")
    assert body["current"]["level"] == "district"
    ok(act("district", p, "assign", responsible_unit="370303001001", responsible_person="区住建局"))


def test_suspend_and_resume_move_due_by_working_days(report, act, clock):
    # Accepted Monday 2026-11-16: due Thursday 2026-11-19 23:59:59 (3 working days).
    clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI))
    p = ok(act("secretary", report(), "accept"))
    assert parse_iso(p["due_at"]) == datetime(2026, 11, 19, 23, 59, 59, tzinfo=SHANGHAI)
    p = ok(act("secretary", p, "assign", responsible_unit=GRID, responsible_person="王"))
    clock.set(datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI))  # Tuesday
    p = ok(act("secretary", p, "suspend", note="等待产权单位"))
    assert p["status"] == "suspended" and p["overdue"] is False
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI))  # next Monday: Wed..Mon = 4 days
    p = ok(act("secretary", p, "resume"))
    assert p["status"] == "assigned"
    # (events sort by time; this test's clock runs behind the report's)
    resume = [e for e in p["events"] if e["action"] == "resume"][0]
    assert resume["payload"]["working_days_suspended"] == 4
    # Thursday 19th + 4 working days = Wednesday 25th.
    assert parse_iso(p["due_at"]) == datetime(2026, 11, 25, 23, 59, 59, tzinfo=SHANGHAI)
    assert p["due_estimated"] is False


def test_suspended_problem_is_never_overdue(client, auth, report, act, clock):
    clock.set(now() - timedelta(days=30))
    p = ok(act("secretary", report(), "accept"))
    assert p["overdue"] is True
    p = ok(act("secretary", p, "suspend"))
    assert p["overdue"] is False
    got = client.get(f"{API}/problems/{p['id']}", headers=auth.headers("secretary")).get_json()
    assert got["overdue"] is False


def test_suspend_twice_is_invalid(report, act):
    p = ok(act("secretary", report(), "suspend"))
    assert p["status"] == "suspended"
    assert_problem(act("secretary", p, "suspend"), 409, "INVALID_TRANSITION")
    p = ok(act("secretary", p, "resume"))
    assert p["status"] == "reported" and p["due_at"] is None


def test_extend_sets_due_and_event(report, act):
    p = ok(act("secretary", report(), "accept"))
    new_due = iso(now() + timedelta(days=15))
    p = ok(act("secretary", p, "extend", due_at=new_due, reason="需要采购配件"))
    assert p["due_at"] == new_due and p["due_estimated"] is False
    event = p["events"][-1]
    assert event["note"] == "需要采购配件" and event["payload"]["due_at"] == new_due
    assert event["from_status"] == event["to_status"] == "accepted"


def test_extend_in_the_past_is_422(report, act):
    p = ok(act("secretary", report(), "accept"))
    body = assert_problem(
        act("secretary", p, "extend", due_at=iso(now() - timedelta(hours=1)), reason="x"),
        422,
        "VALIDATION_ERROR",
    )
    assert "due_at" in body["errors"]


def test_supervise_any_open_problem_by_street_and_district(report, act, client, auth):
    p = report()
    assert_problem(act("secretary", p, "supervise", note="督办"), 403, "ACTION_FORBIDDEN")
    assert_problem(act("worker", p, "supervise", note="督办"), 403, "ACTION_FORBIDDEN")
    p = ok(act("street", p, "supervise", note="请三日内办结"))
    assert p["supervised"] is True and p["status"] == "reported"
    assert p["events"][-1]["note"] == "请三日内办结"
    assert p["events"][-1]["payload"] == {"overdue": False}
    p = ok(act("district", p, "supervise", note="再次督办"))
    assert [e["action"] for e in p["events"]].count("supervise") == 2
    p = ok(act("secretary", p, "reject"))
    assert_problem(act("district", p, "supervise", note="x"), 409, "INVALID_TRANSITION")


def test_supervise_needs_a_note(report, act):
    body = assert_problem(act("street", report(), "supervise"), 422, "VALIDATION_ERROR")
    assert "note" in body["errors"]


def test_stale_version_carries_current(report, act):
    p = report()
    ok(act("secretary", p, "accept"))
    body = assert_problem(act("secretary", p, "reject"), 409, "STALE_VERSION")
    assert body["current"]["status"] == "accepted" and body["current"]["version"] == 2
    assert len(body["current"]["events"]) == 2


@pytest.mark.parametrize(
    "body,field",
    [
        ({"action": "accept"}, "base_version"),
        ({"action": "accept", "base_version": "1"}, "base_version"),
        ({"action": "accept", "base_version": 1.5}, "base_version"),
        ({"action": "accept", "base_version": True}, "base_version"),
        ({"action": "accept", "base_version": 0}, "base_version"),
        ({"base_version": 1}, "action"),
        ({"action": "close", "base_version": 1}, "action"),
        ({"action": ["accept"], "base_version": 1}, "action"),
        ({"action": None, "base_version": 1}, "action"),
        ({"action": "accept", "base_version": None}, "base_version"),
        ({"action": "accept", "base_version": 1, "rating": 3}, "rating"),
        ({"action": "accept", "base_version": 1, "note": 5}, "note"),
        ({"action": "rate", "base_version": 1, "rating": 6}, "rating"),
        ({"action": "rate", "base_version": 1, "rating": 0}, "rating"),
        ({"action": "rate", "base_version": 1, "rating": "5"}, "rating"),
        ({"action": "rate", "base_version": 1, "rating": 4.5}, "rating"),
        ({"action": "rate", "base_version": 1}, "rating"),
        ({"action": "verify", "base_version": 1}, "ok"),
        ({"action": "verify", "base_version": 1, "ok": "yes"}, "ok"),
        ({"action": "verify", "base_version": 1, "ok": 1}, "ok"),
        ({"action": "assign", "base_version": 1, "responsible_person": "王"}, "responsible_unit"),
        ({"action": "assign", "base_version": 1, "responsible_unit": GRID}, "responsible_person"),
        (
            {
                "action": "assign",
                "base_version": 1,
                "responsible_unit": "999999",
                "responsible_person": "王",
            },
            "responsible_unit",
        ),
        (
            {
                "action": "assign",
                "base_version": 1,
                "responsible_unit": GRID,
                "responsible_person": "王",
                "responsible_user_id": "not-a-uuid",
            },
            "responsible_user_id",
        ),
        (
            {
                "action": "assign",
                "base_version": 1,
                "responsible_unit": GRID,
                "responsible_person": "王",
                "responsible_user_id": "00000000-0000-4000-8000-000000000000",
            },
            "responsible_user_id",
        ),
        ({"action": "rectify", "base_version": 1}, "measures"),
        (
            {"action": "rectify", "base_version": 1, "measures": "x", "photos_after": ["nope"]},
            "photos_after.0",
        ),
        (
            {
                "action": "rectify",
                "base_version": 1,
                "measures": "x",
                "cost_share": {"resident": 1, "society": "1"},
            },
            "cost_share.society",
        ),
        (
            {"action": "rectify", "base_version": 1, "measures": "x", "cost_share": [1, 2, 3]},
            "cost_share",
        ),
        (
            {
                "action": "rectify",
                "base_version": 1,
                "measures": "x",
                "cost_share": {"resident": -1, "society": 1, "subsidy": 1},
            },
            "cost_share.resident",
        ),
        (
            {
                "action": "rectify",
                "base_version": 1,
                "measures": "x",
                "cost_share": {"resident": 1, "society": 1, "subsidy": 1, "tip": 1},
            },
            "cost_share.tip",
        ),
        ({"action": "extend", "base_version": 1, "reason": "x"}, "due_at"),
        ({"action": "extend", "base_version": 1, "due_at": "2099-01-01T00:00:00"}, "due_at"),
        ({"action": "extend", "base_version": 1, "due_at": "2099-01-01T00:00:00+08:00"}, "reason"),
        (
            {
                "action": "extend",
                "base_version": 1,
                "due_at": "2099-01-01T00:00:00+08:00",
                "reason": "x",
                "note": "y",
            },
            "note",
        ),
        ({"action": "supervise", "base_version": 1, "note": ""}, "note"),
        ({"action": "accept", "base_version": 1, "note": "x" * 2001}, "note"),
    ],
)
def test_bad_parameters_are_422_and_write_nothing(client, auth, report, body, field):
    p = report()
    resp = client.post(
        f"{API}/problems/{p['id']}/actions", json=body, headers=auth.headers("admin")
    )
    problem = assert_problem(resp, 422, "VALIDATION_ERROR")
    assert field in problem["errors"], problem["errors"]
    got = client.get(f"{API}/problems/{p['id']}", headers=auth.headers("admin")).get_json()
    assert got["version"] == 1 and len(got["events"]) == 1


@pytest.mark.parametrize(
    "raw,content_type,status,code",
    [
        ("[1, 2]", "application/json", 422, "VALIDATION_ERROR"),
        ('"accept"', "application/json", 422, "VALIDATION_ERROR"),
        ("", "application/json", 422, "VALIDATION_ERROR"),
        ("{bad json", "application/json", 400, "MALFORMED_BODY"),
        ("action=accept", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_unparsable_or_non_object_bodies(client, auth, report, raw, content_type, status, code):
    p = report()
    resp = client.post(
        f"{API}/problems/{p['id']}/actions",
        data=raw,
        headers=auth.headers("admin", **{"Content-Type": content_type}),
    )
    assert_problem(resp, status, code)


def test_assign_outside_scope_is_403_out_of_scope(report, act):
    p = ok(act("secretary", report(), "accept"))
    assert_problem(
        act("secretary", p, "assign", responsible_unit="370303001002-01", responsible_person="王"),
        403,
        "OUT_OF_SCOPE",
    )


def test_invisible_or_unknown_problem_is_404(client, auth, report, act):
    p = report()
    for user in ("secretary2", "worker2", "worker3", "street2"):
        assert_problem(act(user, p, "accept"), 404, "NOT_FOUND")
    fake = {"id": "00000000-0000-4000-8000-000000000000", "version": 1}
    assert_problem(act("admin", fake, "accept"), 404, "NOT_FOUND")
    assert_problem(
        client.post(
            f"{API}/problems/not-a-uuid/actions",
            json={"action": "accept", "base_version": 1},
            headers=auth.headers("admin"),
        ),
        404,
        "NOT_FOUND",
    )


def test_deleted_problem_is_gone(app, report, act):
    p = report()
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        problem_store.update(conn, p["id"], {"deleted": 1})
    conn.close()
    assert_problem(act("secretary", p, "accept", base_version=2), 410, "GONE")


def test_grid_worker_may_not_accept(report, act):
    assert_problem(act("worker", report(), "accept"), 403, "ACTION_FORBIDDEN")


def test_requires_token(client, report):
    p = report()
    assert_problem(
        client.post(
            f"{API}/problems/{p['id']}/actions", json={"action": "accept", "base_version": 1}
        ),
        401,
        "TOKEN_MISSING",
    )


def test_action_shows_in_openapi(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    op = spec["paths"]["/api/v1/problems/{problem_id}/actions"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]
    assert "ActionRequest" in spec["components"]["schemas"]


@pytest.mark.parametrize("due", ["9999-12-31T23:00:00-05:00", "2099-01-01T00:00:00+08:00"])
def test_extend_too_far_is_422(report, act, due):
    p = ok(act("secretary", report(), "accept"))
    body = assert_problem(
        act("secretary", p, "extend", due_at=due, reason="x"), 422, "VALIDATION_ERROR"
    )
    assert "due_at" in body["errors"]


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_param_names = st.sampled_from(
    [
        "note",
        "ok",
        "rating",
        "rating_comment",
        "due_at",
        "reason",
        "measures",
        "photos_after",
        "cost_share",
        "responsible_unit",
        "responsible_person",
        "responsible_user_id",
        "junk",
    ]
)


@pytest.fixture(scope="module")
def fuzz_problem(client, auth):
    resp = client.post(
        f"{API}/problems",
        headers=auth.headers("worker"),
        json={"grid_code": GRID, "category": "other.other", "description": "fuzz"},
    )
    return resp.get_json()["id"]


@settings(max_examples=60, deadline=None, database=None)
@given(
    action=st.sampled_from(list(lifecycle.TRANSITIONS)) | st.text(max_size=10),
    base_version=st.integers(-3, 4) | st.none() | st.text(max_size=3),
    params=st.dictionaries(_param_names, _json_values, max_size=4),
)
def test_fuzzed_actions_never_500(client, auth, fuzz_problem, action, base_version, params):
    resp = client.post(
        f"{API}/problems/{fuzz_problem}/actions",
        headers=auth.headers("admin"),
        json={"action": action, "base_version": base_version, **params},
    )
    assert resp.status_code in (200, 403, 409, 422), resp.get_data(as_text=True)
    assert resp.mimetype in ("application/json", "application/problem+json")
