"""The secretaries' lists as JSON: content, filters, paging, masking, roles and scope."""

import pytest
from conftest import assert_problem
from list_data import PERIOD, build

COMMUNITY = "370303001001"
PL = f"/api/v1/communities/{COMMUNITY}/problem-list"
RL = f"/api/v1/communities/{COMMUNITY}/rectification-list"
LEDGER = "/api/v1/grids/370303001001-01/visit-ledger"


@pytest.fixture
def data(app, user_ids):
    return build(app.config["DATABASE"], user_ids["worker"])


def get(client, auth, url, user="secretary", **params):
    return client.get(url, query_string={**PERIOD, **params}, headers=auth.headers(user))


def test_problem_list_content(client, auth, data):
    resp = get(client, auth, PL)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["unit"] == {"code": COMMUNITY, "name": "杏园社区", "level": "community"}
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30"
    assert body["next_cursor"] is None
    items = body["items"]
    # Reported in November, rejected included, oldest first; p6 (October) and other
    # communities' problems are not there.
    assert [i["description"] for i in items] == [
        "问题 p1",
        "问题 p2",
        "问题 p3",
        "问题 p4",
        "问题 p5",
        "问题 p7",
        "问题 p8",
    ]
    assert [i["seq"] for i in items] == [1, 2, 3, 4, 5, 6, 7]
    assert list(items[0]) == [
        "seq",
        "number",
        "reported_at",
        "source",
        "grid_code",
        "grid_name",
        "address",
        "category",
        "category_name",
        "description",
        "urgency",
        "status",
        "level",
        "responsible_unit",
        "responsible_person",
        "measures",
        "due_at",
        "rectified_at",
        "closed_at",
        "overdue",
        "supervised",
        "rating",
        "cost_share_resident",
        "cost_share_society",
        "cost_share_subsidy",
        "head_name",
        "phone",
    ]
    p1 = items[0]
    assert p1["number"] == "370303001001-2026-0001"
    assert p1["reported_at"] == "2026-11-02T01:00:00.000000+00:00"
    assert p1["grid_name"] == "杏园一网格" and p1["address"] == "杏园路1号"
    assert p1["category"] == "safety.fire" and p1["category_name"] == "消防隐患"
    assert p1["status"] == "closed" and p1["rating"] == 5 and p1["overdue"] is False
    assert (p1["cost_share_resident"], p1["cost_share_society"], p1["cost_share_subsidy"]) == (
        100,
        200.5,
        300,
    )
    assert p1["measures"] == "更换灭火器" and p1["responsible_person"] == "刘主任"
    # Masked by default.
    assert p1["head_name"] == "张*" and p1["phone"] == "138****1234"
    assert items[1]["head_name"] == "欧***" and items[1]["phone"] == "139****1111"
    assert items[2]["status"] == "rejected" and items[2]["head_name"] is None
    # Overdue: open and past due (p2); p7 due far ahead; p8 suspended; closed never.
    assert [i["overdue"] for i in items] == [False, True, False, False, False, False, False]
    assert [i["supervised"] for i in items] == [False, True, False, False, False, False, False]
    assert [i["rating"] for i in items] == [5, None, None, 2, None, None, None]


def test_problem_list_filters(client, auth, data):
    def descriptions(**params):
        resp = get(client, auth, PL, **params)
        assert resp.status_code == 200, resp.get_json()
        return [i["description"] for i in resp.get_json()["items"]]

    assert descriptions(status="closed") == ["问题 p1", "问题 p4"]
    assert descriptions(status="closed,rejected") == ["问题 p1", "问题 p3", "问题 p4"]
    assert descriptions(category="safety") == ["问题 p1", "问题 p4", "问题 p5"]
    assert descriptions(category="safety.fire") == ["问题 p1", "问题 p5"]
    assert descriptions(grid="370303001001-02") == ["问题 p3", "问题 p4", "问题 p8"]
    assert descriptions(overdue="true") == ["问题 p2"]
    assert len(descriptions(overdue="0")) == 6
    assert descriptions(supervised="1") == ["问题 p2"]
    # Without a period: every problem of the community (p6 from October too).
    resp = client.get(PL, headers=auth.headers("secretary"))
    assert len(resp.get_json()["items"]) == 8 and resp.get_json()["from"] is None
    # An aware datetime bound.
    window = {"from": "2026-11-05T09:00:00+08:00", "to": "2026-11-06T09:00:00+08:00"}
    assert descriptions(**window) == ["问题 p4", "问题 p5"]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nope"},
        {"format": "pdf"},
        {"lang": "fr"},
        {"unmask": "yes"},
        {"from": "2026-13-01"},
        {"to": "2026-11-01T10:00:00"},
        {"limit": "0"},
        {"category": "Robert'); DROP TABLE problems;--"},
        {"grid": "370303001002-01"},
        {"cursor": "bm9wZQ"},
        {"overdue": "maybe"},
        {"cursor": "WyJhIiwgImIiLCAieCJd"},  # ["a", "b", "x"]: seq not an int
        {"cursor": "WzEsIDIsIDNd"},  # [1, 2, 3]
        {"cursor": "WyJhIiwgImIiLCB0cnVlXQ"},  # ["a", "b", true]
    ],
)
def test_problem_list_bad_query(client, auth, data, params):
    assert_problem(get(client, auth, PL, **params), 422, "VALIDATION_ERROR")


def test_repeated_query_parameters(client, auth, data):
    """A single-valued parameter given twice is 422; a repeated list parameter (status)
    means the same as its comma-separated form."""
    for query in (
        "limit=1&limit=2",
        "format=json&format=csv",
        "unmask=true&unmask=false",
        "from=2026-11-01&from=2026-12-01",
    ):
        resp = client.get(f"{PL}?{query}", headers=auth.headers("secretary"))
        body = assert_problem(resp, 422, "VALIDATION_ERROR")
        assert list(body["errors"]) == [query.split("=")[0]]
    both = client.get(f"{PL}?status=closed&status=rejected", headers=auth.headers("secretary"))
    joined = client.get(f"{PL}?status=closed,rejected", headers=auth.headers("secretary"))
    assert both.status_code == 200
    assert both.get_json()["items"] == joined.get_json()["items"]
    assert {i["status"] for i in both.get_json()["items"]} == {"closed", "rejected"}


def test_problem_list_pages(client, auth, data):
    seen, cursor = [], None
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = get(client, auth, PL, **params).get_json()
        seen += [(i["seq"], i["description"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [s for s, _d in seen] == [1, 2, 3, 4, 5, 6, 7]
    assert len({d for _s, d in seen}) == 7


def test_rectification_list_content(client, auth, data):
    body = get(client, auth, RL).get_json()
    items = body["items"]
    # Accepted ones only (p3 rejected and p5 still reported are not there).
    assert [i["description"] for i in items] == [
        "问题 p1",
        "问题 p2",
        "问题 p4",
        "问题 p7",
        "问题 p8",
    ]
    assert list(items[0]) == [
        "seq",
        "number",
        "description",
        "category_name",
        "measures",
        "responsible_unit",
        "responsible_person",
        "accepted_at",
        "due_at",
        "due_estimated",
        "rectified_at",
        "verified_at",
        "status",
        "overdue",
        "supervised",
        "rating",
        "cost_share_resident",
        "cost_share_society",
        "cost_share_subsidy",
    ]
    assert [i["overdue"] for i in items] == [False, True, False, False, False]
    assert [i["rating"] for i in items] == [5, None, 2, None, None]
    assert [i["due_estimated"] for i in items] == [False, False, False, True, False]
    assert items[0]["accepted_at"] == "2026-11-02T02:00:00.000000+00:00"
    assert items[0]["verified_at"] == "2026-11-05T01:00:00.000000+00:00"
    assert items[2]["rectified_at"] == "2026-11-10T04:00:00.000000+00:00"


def test_visit_ledger_content(client, auth, data):
    body = get(client, auth, LEDGER).get_json()
    assert body["unit"]["level"] == "grid"
    items = body["items"]
    # Every live household of the grid (h6 is deleted), visited or not.
    assert [i["household"]["head_name"] for i in items] == ["张*", "欧***"]
    h1, h2 = items
    assert h1["household"] == {
        "id": data["h1"],
        "address": "杏园路1号",
        "building": "*",
        "unit_no": "*",
        "room": "*",
        "head_name": "张*",
        "phone": "138****1234",
        "tags": ["elderly_alone"],
    }
    assert [(v["outcome"], v["visited_at"], v["visitor"]) for v in h1["visits"]] == [
        ("not_home", "2026-11-05T09:00:00+08:00", "Worker"),
        ("met", "2026-11-10T10:30:00+08:00", "Worker"),
    ]
    assert h1["visits"][1]["notes"] == "独居老人，身体尚好"
    assert set(h1["visits"][0]) == {"id", "visited_at", "outcome", "visitor", "notes"}
    assert h1["visited"] is True
    # Only a not_home visit: not visited.
    assert h2["visited"] is False and len(h2["visits"]) == 1
    # Grid -02's only visit is before the period: listed, not visited.
    other = get(client, auth, "/api/v1/grids/370303001001-02/visit-ledger").get_json()["items"]
    assert [(i["visits"], i["visited"]) for i in other] == [([], False)]
    # Filters.
    assert [
        i["household"]["id"] for i in get(client, auth, LEDGER, visited="false").get_json()["items"]
    ] == [data["h2"]]
    assert [
        i["household"]["id"]
        for i in get(client, auth, LEDGER, tag="elderly_alone").get_json()["items"]
    ] == [data["h1"]]
    pages = get(client, auth, LEDGER, limit=1).get_json()
    assert len(pages["items"]) == 1 and pages["next_cursor"]
    rest = get(client, auth, LEDGER, limit=1, cursor=pages["next_cursor"]).get_json()
    assert rest["items"][0]["household"]["id"] == data["h2"] and rest["next_cursor"] is None


def test_unmask_for_secretary_is_audited(client, auth, data, user_ids):
    body = get(client, auth, PL, unmask="true").get_json()
    assert body["items"][0]["head_name"] == "张三" and body["items"][0]["phone"] == "13812341234"
    ledger = get(client, auth, LEDGER, unmask="1").get_json()["items"]
    assert ledger[0]["household"]["room"] == "301"
    entries = client.get("/api/v1/audit?action=unmask", headers=auth.headers("admin")).get_json()[
        "items"
    ]
    assert [(e["actor"], e["target"], e["details"]["list"]) for e in entries] == [
        (user_ids["secretary"], "370303001001-01", "visit-ledger"),
        (user_ids["secretary"], COMMUNITY, "problem-list"),
    ]
    # A masked JSON read writes nothing.
    get(client, auth, PL, unmask="false")
    again = client.get("/api/v1/audit?action=unmask", headers=auth.headers("admin")).get_json()
    assert len(again["items"]) == 2


@pytest.mark.parametrize("user", ["street", "district", "admin"])
def test_higher_roles_read_and_unmask(client, auth, data, user):
    resp = get(client, auth, PL, user=user, unmask="true")
    assert resp.status_code == 200
    assert resp.get_json()["items"][0]["phone"] == "13812341234"
    assert get(client, auth, PL, user=user).get_json()["items"][0]["phone"] == "138****1234"


LIST_URLS = [PL, RL, "/api/v1/units/370303001001/summary"]


@pytest.mark.parametrize("url", LIST_URLS)
def test_grid_worker_refused_every_list_but_its_ledger(client, auth, data, url):
    assert_problem(get(client, auth, url, user="worker"), 403, "FORBIDDEN")
    assert_problem(get(client, auth, url, user="worker", format="csv"), 403, "FORBIDDEN")


def test_grid_worker_ledger(client, auth, data):
    body = get(client, auth, LEDGER, user="worker").get_json()
    assert body["items"][0]["household"]["phone"] == "138****1234"  # masked for them too
    assert_problem(get(client, auth, LEDGER, user="worker", unmask="true"), 403, "UNMASK_FORBIDDEN")
    assert_problem(
        get(client, auth, "/api/v1/grids/370303001001-02/visit-ledger", user="worker"),
        403,
        "OUT_OF_SCOPE",
    )
    assert get(client, auth, LEDGER, user="worker", format="csv").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/communities/370303001002/problem-list",
        "/api/v1/communities/370303001002/rectification-list",
        "/api/v1/grids/370303001002-01/visit-ledger",
        "/api/v1/units/370303001002/summary",
        "/api/v1/units/370303/summary",
    ],
)
def test_outside_scope(client, auth, data, url):
    assert_problem(get(client, auth, url), 403, "OUT_OF_SCOPE")
    assert_problem(get(client, auth, url, format="xlsx"), 403, "OUT_OF_SCOPE")
    if "summary" not in url:
        assert_problem(get(client, auth, url, unmask="true"), 403, "UNMASK_FORBIDDEN")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/communities/370303001001-01/problem-list",  # a grid where a community is due
        "/api/v1/communities/370303001000/rectification-list",  # a street
        "/api/v1/grids/370303001001/visit-ledger",  # a community where a grid is due
        "/api/v1/communities/999999999999/problem-list",
        "/api/v1/units/nope/summary",
        "/api/v1/communities/..%2F..%2Fetc/problem-list",
    ],
)
def test_wrong_or_unknown_unit_is_404(client, auth, data, url):
    assert_problem(get(client, auth, url, user="admin"), 404, "NOT_FOUND")


def test_street_sees_both_communities(client, auth, data):
    assert (
        get(
            client, auth, "/api/v1/communities/370303001002/problem-list", user="street"
        ).status_code
        == 200
    )
    assert_problem(
        get(client, auth, "/api/v1/communities/370303002001/problem-list", user="street"),
        403,
        "OUT_OF_SCOPE",
    )


def test_unauthenticated(client, data):
    resp = client.get(PL)
    assert_problem(resp, 401, "TOKEN_MISSING")


def test_visit_ledger_deleted_households_on_request(client, auth, data):
    ids = [
        i["household"]["id"] for i in get(client, auth, LEDGER, deleted="true").get_json()["items"]
    ]
    assert ids == [data["h1"], data["h2"], data["h6"]]


def test_summary_unmask_rules(client, auth, data):
    assert_problem(
        get(client, auth, "/api/v1/units/370303001001/summary", user="worker", unmask="true"),
        403,
        "UNMASK_FORBIDDEN",
    )
    assert_problem(
        get(client, auth, "/api/v1/units/370303001002/summary", unmask="true"),
        403,
        "UNMASK_FORBIDDEN",
    )
    assert get(client, auth, "/api/v1/units/370303001001/summary", unmask="1").status_code == 200
