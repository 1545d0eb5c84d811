"""Roll-ups: exact figures for a built community, and every parent equal to its children."""

import pytest
from conftest import assert_problem
from list_data import PERIOD, build

from survey_api.services.summary import pct

COUNTS = ("households", "visited", "problems", "rectified", "overdue", "supervised", "rated")
METRICS = [
    "households",
    "visited",
    "coverage_pct",
    "problems",
    "problems_by_category",
    "rectified",
    "rectification_rate_pct",
    "on_time_rate_pct",
    "overdue",
    "supervised",
    "rated",
    "satisfaction_rate_pct",
]


@pytest.fixture
def data(app, user_ids):
    return build(app.config["DATABASE"], user_ids["worker"])


def summary(client, auth, code, user="admin", **params):
    resp = client.get(
        f"/api/v1/units/{code}/summary",
        query_string={**PERIOD, **params},
        headers=auth.headers(user),
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_community_figures(client, auth, data):
    body = summary(client, auth, "370303001001", user="secretary")
    assert body["unit"] == {"code": "370303001001", "name": "杏园社区", "level": "community"}
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-30")
    assert list(body["totals"]) == METRICS
    assert body["totals"] == {
        "households": 3,
        "visited": 1,
        "coverage_pct": 33.3,
        "problems": 6,  # p3 rejected and p6 (October) are not counted
        "problems_by_category": {
            "facilities.lighting": 1,
            "heating.no_heat": 1,
            "safety.fire": 2,
            "safety.flying_wires": 1,
            "traffic.parking": 1,
        },
        "rectified": 2,
        "rectification_rate_pct": 33.3,
        "on_time_rate_pct": 50.0,  # p1 on time, p4 late
        "overdue": 1,
        "supervised": 1,
        "rated": 2,
        "satisfaction_rate_pct": 50.0,
    }  # ratings 5 and 2
    grid1, grid2 = body["children"]
    assert list(grid1)[:3] == ["code", "name", "level"]
    assert (grid1["code"], grid1["name"], grid1["level"]) == (
        "370303001001-01",
        "杏园一网格",
        "grid",
    )
    assert (grid1["households"], grid1["visited"], grid1["coverage_pct"]) == (2, 1, 50.0)
    assert (grid1["problems"], grid1["rectified"], grid1["on_time_rate_pct"]) == (4, 1, 100.0)
    assert (grid2["households"], grid2["visited"], grid2["problems"]) == (1, 0, 2)
    assert (grid2["on_time_rate_pct"], grid2["satisfaction_rate_pct"]) == (0.0, 0.0)


def _check_sums(client, auth, code, depth=0):
    body = summary(client, auth, code)
    if not body["children"]:
        return body
    for key in COUNTS:
        assert body["totals"][key] == sum(c[key] for c in body["children"]), (code, key)
    categories = {}
    for child in body["children"]:
        for cat, n in child["problems_by_category"].items():
            categories[cat] = categories.get(cat, 0) + n
        # The child's own roll-up says the same as its row in the parent's.
        below = _check_sums(client, auth, child["code"], depth + 1)
        assert {k: below["totals"][k] for k in METRICS} == {k: child[k] for k in METRICS}
    assert body["totals"]["problems_by_category"] == categories
    assert body["totals"]["problems"] == sum(categories.values())
    return body


def test_every_parent_is_the_sum_of_its_children(client, auth, data):
    district = _check_sums(client, auth, "370303")
    assert [c["code"] for c in district["children"]] == ["370303001000", "370303002000"]
    assert district["totals"]["households"] == 5
    assert district["totals"]["problems"] == 8


def test_grid_summary_has_no_children(client, auth, data):
    body = summary(client, auth, "370303001001-01", user="secretary")
    assert body["children"] == [] and body["totals"]["households"] == 2


def test_category_filter_and_all_time(client, auth, data):
    body = summary(client, auth, "370303001001", category="safety")
    assert body["totals"]["problems"] == 3
    assert set(body["totals"]["problems_by_category"]) == {"safety.fire", "safety.flying_wires"}
    all_time = client.get(
        "/api/v1/units/370303001001/summary", headers=auth.headers("admin")
    ).get_json()
    assert all_time["from"] is None and all_time["totals"]["problems"] == 7
    assert all_time["totals"]["visited"] == 2  # h3's October visit counts without a period


def test_empty_unit_percentages_are_zero(client, auth, app):
    body = summary(client, auth, "370303002000")
    assert body["totals"]["coverage_pct"] == 0.0 and body["totals"]["on_time_rate_pct"] == 0.0


def test_pct_rounds_half_up_to_one_decimal():
    assert pct(1, 3) == 33.3 and pct(2, 3) == 66.7 and pct(1, 8) == 12.5
    assert pct(1, 16) == 6.3 and pct(0, 0) == 0.0 and pct(5, 5) == 100.0


def test_summary_refusals(client, auth, data):
    assert_problem(
        client.get("/api/v1/units/370303/summary", headers=auth.headers("street")),
        403,
        "OUT_OF_SCOPE",
    )
    assert_problem(
        client.get(
            "/api/v1/units/370303001001/summary?from=nope", headers=auth.headers("secretary")
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_visited_counts_met_visits_in_the_period_only(app, client, auth, user_ids):
    """last_met_at answers most households from an index; the rest are probed: both exact."""
    import uuid

    from survey_api.db import connect, write_tx
    from survey_api.storage import households, visits

    grid = "370303002001-01"
    conn = connect(app.config["DATABASE"])
    met = {  # household → [(visited_at, outcome)]
        "in_period": [("2026-11-10T10:00:00+08:00", "met")],
        "in_and_after": [
            ("2026-12-05T10:00:00+08:00", "met"),  # newest first on purpose
            ("2026-11-10T10:00:00+08:00", "met"),
        ],
        "only_after": [("2026-12-05T10:00:00+08:00", "met")],
        "only_before": [("2026-10-05T10:00:00+08:00", "met")],
        "not_home_in_period": [
            ("2026-11-10T10:00:00+08:00", "not_home"),
            ("2026-10-01T10:00:00+08:00", "met"),
        ],
        "never": [],
    }
    ids = {}
    with write_tx(conn):
        for name, visit_list in met.items():
            ids[name] = str(uuid.uuid4())
            households.insert(conn, ids[name], {"grid_code": grid, "address": name})
            for at, outcome in visit_list:
                visits.insert(
                    conn,
                    str(uuid.uuid4()),
                    {"household_id": ids[name], "visited_at": at, "outcome": outcome},
                    grid_code=grid,
                    visitor_id=user_ids["worker"],
                )
    last = dict(conn.execute("SELECT address, last_met_at FROM households").fetchall())
    conn.close()
    assert last["in_and_after"] == "2026-12-05T02:00:00.000000+00:00"  # the max, kept
    assert last["never"] is None

    def visited(**period):
        return summary(client, auth, grid, **period)["totals"]["visited"]

    assert visited() == 2  # PERIOD: November
    assert visited(**{"from": "2026-11-01", "to": "2026-12-31"}) == 3
    assert visited(**{"from": "2026-10-01", "to": "2026-10-31"}) == 2
    open_ended = client.get(
        f"/api/v1/units/{grid}/summary?from=2026-12-01", headers=auth.headers("admin")
    ).get_json()
    assert open_ended["totals"]["visited"] == 2
    all_time = client.get(f"/api/v1/units/{grid}/summary", headers=auth.headers("admin"))
    assert all_time.get_json()["totals"]["visited"] == 5
