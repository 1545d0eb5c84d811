"""Problem categories: the seeded two-level list, read by everyone, edited by admin."""

import pytest
from conftest import assert_problem

API = "/api/v1/categories"

SEEDED = [
    ("safety", "安全隐患", None, None),
    ("safety.flying_wires", "飞线充电", "safety", 3),
    ("safety.fire", "消防隐患", "safety", 3),
    ("safety.structure", "房屋设施安全", "safety", 3),
    ("heating", "供暖", None, None),
    ("heating.no_heat", "不供暖或温度不达标", "heating", 3),
    ("traffic", "交通出行", None, None),
    ("traffic.parking", "乱停车占道", "traffic", 3),
    ("traffic.road", "道路破损", "traffic", 3),
    ("sanitation", "环境卫生", None, None),
    ("sanitation.garbage", "垃圾堆放", "sanitation", 3),
    ("sanitation.sewage", "污水排水", "sanitation", 3),
    ("facilities", "老旧小区设施", None, None),
    ("facilities.lighting", "照明", "facilities", 3),
    ("facilities.elevator", "电梯", "facilities", 3),
    ("facilities.pipes", "水电气管网", "facilities", 3),
    ("dispute", "矛盾纠纷", None, None),
    ("dispute.neighbour", "邻里纠纷", "dispute", 3),
    ("dispute.property", "物业纠纷", "dispute", 3),
    ("care", "民生关爱", None, None),
    ("care.elderly", "独居老人关爱", "care", 3),
    ("care.hardship", "困难帮扶", "care", 3),
    ("other", "其他", None, None),
    ("other.other", "其他", "other", 3),
]


def all_categories(client, auth, user="worker", limit=None):
    items, cursor = [], None
    while True:
        query = [f"limit={limit}"] if limit else []
        if cursor:
            query.append(f"cursor={cursor}")
        resp = client.get(f"{API}?{'&'.join(query)}", headers=auth.headers(user))
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("user", ["worker", "secretary", "street", "district", "admin"])
def test_everyone_reads_the_seeded_list(client, auth, user):
    items = all_categories(client, auth, user)
    assert [(c["code"], c["name"], c["parent_code"], c["working_days"]) for c in items] == SEEDED
    assert set(items[0]) == {"code", "name", "parent_code", "working_days"}


def test_pagination(client, auth):
    assert [c["code"] for c in all_categories(client, auth, limit=5)] == [c[0] for c in SEEDED]


def test_admin_adds_a_leaf_and_a_group(client, auth):
    h = auth.headers("admin")
    resp = client.post(
        API,
        json={"code": "safety.gas", "name": "燃气隐患", "parent_code": "safety", "working_days": 1},
        headers=h,
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {
        "code": "safety.gas",
        "name": "燃气隐患",
        "parent_code": "safety",
        "working_days": 1,
    }
    assert resp.headers["Location"] == f"{API}/safety.gas"
    resp = client.post(API, json={"code": "pets", "name": "宠物管理"}, headers=h)
    assert resp.status_code == 201 and resp.get_json()["working_days"] is None
    resp = client.post(
        API, json={"code": "pets.dogs", "name": "犬只", "parent_code": "pets"}, headers=h
    )
    assert resp.get_json()["working_days"] == 3
    codes = [c["code"] for c in all_categories(client, auth)]
    assert codes.index("safety.gas") == codes.index("safety.structure") + 1  # stays in its group
    assert codes[-2:] == ["pets", "pets.dogs"]
    # A problem may use the new leaf.
    resp = client.post(
        "/api/v1/problems",
        json={"grid_code": "370303001001-01", "category": "safety.gas", "description": "燃气"},
        headers=auth.headers("worker"),
    )
    assert resp.status_code == 201, resp.get_json()


def test_admin_patches_name_and_working_days(client, auth):
    h = auth.headers("admin")
    resp = client.patch(
        f"{API}/traffic.parking", json={"name": "乱停车", "working_days": 7}, headers=h
    )
    assert resp.status_code == 200
    assert resp.get_json() == {
        "code": "traffic.parking",
        "name": "乱停车",
        "parent_code": "traffic",
        "working_days": 7,
    }
    assert (
        client.get(f"{API}/traffic.parking", headers=auth.headers("worker")).get_json()[
            "working_days"
        ]
        == 7
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"code": "safety.fire", "name": "x", "parent_code": "safety"}, "code"),
        ({"code": "safety.gas", "name": "x"}, "parent_code"),
        ({"code": "safety.gas", "name": "x", "parent_code": "nope"}, "parent_code"),
        ({"code": "safety.gas", "name": "x", "parent_code": "heating"}, "code"),
        ({"code": "gas", "name": "x", "working_days": 3}, "working_days"),
        (
            {"code": "safety.gas", "name": "x", "parent_code": "safety", "working_days": 0},
            "working_days",
        ),
        (
            {"code": "safety.gas", "name": "x", "parent_code": "safety", "working_days": 61},
            "working_days",
        ),
        (
            {"code": "safety.gas", "name": "x", "parent_code": "safety", "working_days": "3"},
            "working_days",
        ),
        ({"code": "Safety", "name": "x"}, "code"),
        ({"code": "a.b.c", "name": "x"}, "code"),
        ({"code": "gas", "name": ""}, "name"),
        ({"code": "gas"}, "name"),
        ({"code": "gas", "name": "x", "sort": 1}, "sort"),
    ],
)
def test_bad_creates_are_422(client, auth, body, field):
    resp = client.post(API, json=body, headers=auth.headers("admin"))
    assert field in assert_problem(resp, 422, "VALIDATION_ERROR")["errors"]


@pytest.mark.parametrize(
    "code,body,field",
    [
        ("safety", {"working_days": 3}, "working_days"),
        ("safety.fire", {"working_days": None}, "working_days"),
        ("safety.fire", {"code": "x"}, "code"),
        ("safety.fire", {"parent_code": "heating"}, "parent_code"),
    ],
)
def test_bad_patches_are_422(client, auth, code, body, field):
    resp = client.patch(f"{API}/{code}", json=body, headers=auth.headers("admin"))
    assert field in assert_problem(resp, 422, "VALIDATION_ERROR")["errors"]


def test_unknown_category_is_404(client, auth):
    assert_problem(client.get(f"{API}/nope", headers=auth.headers("worker")), 404, "NOT_FOUND")
    assert_problem(
        client.patch(f"{API}/nope", json={"name": "x"}, headers=auth.headers("admin")),
        404,
        "NOT_FOUND",
    )


@pytest.mark.parametrize("user", ["district", "street", "secretary", "worker"])
def test_only_admin_edits(client, auth, user):
    h = auth.headers(user)
    assert_problem(client.post(API, json={"code": "gas", "name": "x"}, headers=h), 403, "FORBIDDEN")
    assert_problem(
        client.patch(f"{API}/safety.fire", json={"name": "x"}, headers=h), 403, "FORBIDDEN"
    )


def test_no_delete(client, auth):
    resp = client.delete(f"{API}/safety.fire", headers=auth.headers("admin"))
    assert_problem(resp, 405, "METHOD_NOT_ALLOWED")
