"""`survey-api demo`: seeds an empty database, refuses a non-empty one, and every record it
creates is reachable through the API with the logins it prints."""

import json
import re

import pytest
from click.testing import CliRunner

from survey_api import create_app
from survey_api.cli import main
from survey_api.db import connect
from survey_api.demo import LOGINS, DemoRefused, seed_demo, tiny_png

LOGIN_LINE = re.compile(r"^\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", re.M)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run `survey-api demo` once into a fresh instance folder; (app, printed logins, output)."""
    folder = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("SURVEY_API_INSTANCE_PATH", str(folder))
    mp.setenv("SURVEY_API_SECRET_KEY", "demo-test-secret-key-long-enough-for-hs256")
    try:
        result = CliRunner().invoke(main, ["demo"])
        assert result.exit_code == 0, result.output
        app = create_app()
        second = CliRunner().invoke(main, ["demo"])
    finally:
        mp.undo()
    logins = {
        m[0]: {"password": m[1], "role": m[2], "unit": m[3]}
        for m in LOGIN_LINE.findall(result.output)
    }
    return app, logins, result.output, second


@pytest.fixture(scope="module")
def sessions(demo):
    """{username: (client, headers)} for every printed login."""
    app, logins, _, _ = demo
    client = app.test_client()
    out = {}
    for username, login in logins.items():
        resp = client.post(
            "/api/v1/auth/login", json={"username": username, "password": login["password"]}
        )
        assert resp.status_code == 200, resp.get_json()
        out[username] = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    return client, out


def _db(app):
    return connect(app.config["DATABASE"])


def _all(client, headers, path, **params):
    """Every item of a paginated list."""
    items, cursor = [], None
    while True:
        query = dict(params, limit=1000)
        if cursor:
            query["cursor"] = cursor
        resp = client.get(path, query_string=query, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_prints_one_login_per_role(demo):
    _, logins, output, _ = demo
    assert "Demo logins" in output
    assert {login["role"] for login in logins.values()} == {
        "admin",
        "district_admin",
        "street_admin",
        "secretary",
        "grid_worker",
    }
    assert set(logins) == {username for username, *_ in LOGINS}


def test_refuses_a_non_empty_database(demo):
    app, _, _, second = demo
    assert second.exit_code == 1
    assert "Refused" in second.output and "empty database" in second.output
    conn = _db(app)
    assert conn.execute("SELECT count(*) FROM users WHERE username = 'admin'").fetchone()[0] == 1


def test_seed_demo_refuses_the_test_tree(app):
    with pytest.raises(DemoRefused):
        seed_demo(app)


def test_me_for_every_login(demo, sessions):
    _, logins, _, _ = demo
    client, headers = sessions
    for username, login in logins.items():
        me = client.get("/api/v1/me", headers=headers[username]).get_json()
        assert me["role"] == login["role"]
        assert [u["code"] for u in me["units"]] == ([] if login["unit"] == "-" else [login["unit"]])


def test_realistic_district(demo):
    app, _, _, _ = demo
    conn = _db(app)
    levels = dict(conn.execute("SELECT level, count(*) FROM units GROUP BY level").fetchall())
    assert levels["district"] == 1 and levels["street"] >= 2 and levels["community"] >= 6
    assert all(
        re.fullmatch(r"\d{12}", r[0])
        for r in conn.execute("SELECT code FROM units WHERE level IN ('street', 'community')")
    )
    tags = {t for (row,) in conn.execute("SELECT tags FROM households") for t in json.loads(row)}
    assert {"elderly_alone", "low_income", "disabled"} <= tags
    outcomes = {r[0] for r in conn.execute("SELECT DISTINCT outcome FROM visits")}
    assert outcomes == {"met", "not_home", "refused", "vacant", "moved"}
    span = conn.execute("SELECT min(visited_at_utc), max(visited_at_utc) FROM visits").fetchone()
    assert span[0][:7] != span[1][:7]  # visits across months


def test_problems_in_every_state(demo, sessions):
    app, _, _, _ = demo
    client, headers = sessions
    problems = _all(client, headers["admin"], "/api/v1/problems")
    statuses = {p["status"] for p in problems}
    assert statuses == {
        "reported",
        "accepted",
        "assigned",
        "rectifying",
        "rectified",
        "closed",
        "rejected",
        "suspended",
    }
    assert {"grid", "community", "street"} <= {p["level"] for p in problems}
    assert any(p["overdue"] for p in problems)
    assert any(p["supervised"] for p in problems)
    assert any(p["rating"] and p["status"] == "closed" for p in problems)
    assert any(p["due_at"] and p["accepted_at"] for p in problems)
    actions = {e["action"] for p in problems for e in p["events"]}
    assert {
        "report",
        "accept",
        "reject",
        "assign",
        "start",
        "rectify",
        "verify",
        "rate",
        "reopen",
        "suspend",
        "resume",
        "extend",
        "escalate",
        "supervise",
    } <= actions


def test_every_record_reachable_by_the_printed_logins(demo, sessions):
    app, logins, _, _ = demo
    client, headers = sessions
    conn = _db(app)
    for kind in ("households", "visits", "problems"):
        ids = {r[0] for r in conn.execute(f"SELECT id FROM {kind}")}
        for username in ("admin", "district"):
            seen = {item["id"] for item in _all(client, headers[username], f"/api/v1/{kind}")}
            assert seen == ids, (kind, username)
    # The street admin, secretary and grid worker see exactly their part.
    unit_of_grid = {
        "street": "substr(grid_code, 1, 9) || '000'",
        "secretary": "substr(grid_code, 1, 12)",
        "worker": "grid_code",
    }
    for username, unit_sql in unit_of_grid.items():
        expected = {
            r[0]
            for r in conn.execute(
                f"SELECT id FROM problems WHERE {unit_sql} = ?", (logins[username]["unit"],)
            )
        }
        seen = {p["id"] for p in _all(client, headers[username], "/api/v1/problems")}
        assert seen == expected and seen, username
    # Each problem with its whole trail, each photo readable.
    for pid, events in conn.execute(
        "SELECT p.id, (SELECT count(*) FROM problem_events e WHERE e.problem_id = p.id) "
        "FROM problems p"
    ):
        body = client.get(f"/api/v1/problems/{pid}", headers=headers["admin"]).get_json()
        assert len(body["events"]) == events and body["events"][0]["action"] == "report"
        assert body["photos_missing"] == []
    for (sha,) in conn.execute("SELECT sha256 FROM blobs"):
        resp = client.get(f"/api/v1/blobs/{sha}", headers=headers["admin"])
        assert resp.status_code == 200 and resp.data.startswith(b"\x89PNG")
        resp.close()
    worker_households = _all(client, headers["worker"], "/api/v1/households")
    assert worker_households and all(
        h["grid_code"] == logins["worker"]["unit"] for h in worker_households
    )


def test_change_log_covers_every_record(demo):
    app, _, _, _ = demo
    conn = _db(app)
    for entity, table in (
        ("household", "households"),
        ("visit", "visits"),
        ("problem", "problems"),
    ):
        missing = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM changes c "
            f"WHERE c.entity = ? AND c.record_id = t.id AND c.seq = t.seq)",
            (entity,),
        ).fetchone()
        assert missing[0] == 0, table


def test_tiny_png_is_a_png():
    body = tiny_png((200, 30, 30))
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and body.endswith(b"IEND\xaeB`\x82")
