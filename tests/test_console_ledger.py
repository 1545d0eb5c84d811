"""走访台账 and the household page through the Flask test client: scope, masking, the
仅看未走访 filter, the export link, last visits."""

import re
from html import unescape

import pytest
from conftest import Auth
from console_helpers import console_login, text
from list_data import PERIOD, build


@pytest.fixture
def data(app, user_ids):
    return build(app.config["DATABASE"], user_ids["worker"])


def logged_in(app, user):
    client = app.test_client()
    console_login(client, user)
    return client


def rows(html):
    """[(household id, address cell, visited 是/否)] of the ledger table."""
    return re.findall(
        r'<a href="/console/households/([0-9a-f-]+)">([^<]+)</a>.*?'
        r'<span class="outcome-(?:met|none)">(是|否)</span></td>\s*</tr>',
        html,
        re.S,
    )


def test_secretary_sees_the_first_grid_and_chooses(app, data):
    client = logged_in(app, "secretary")
    html = text(client.get("/console/ledger"))
    assert "<h1>走访台账</h1>" in html
    assert '<option value="370303001001-01" selected>杏园一网格</option>' in html
    assert '<option value="370303001001-02">杏园二网格</option>' in html
    assert "370303001002-01" not in html  # another community's grid is no choice
    html = text(client.get("/console/ledger", query_string={"grid": "370303001001-02", **PERIOD}))
    assert [r[0] for r in rows(html)] == [data["h3"]]


def test_ledger_figures_match_the_api(app, auth, data):
    client = logged_in(app, "secretary")
    html = text(client.get("/console/ledger", query_string={"grid": "370303001001-01", **PERIOD}))
    api = (
        app.test_client()
        .get(
            "/api/v1/grids/370303001001-01/visit-ledger",
            query_string=PERIOD,
            headers=auth.headers("secretary"),
        )
        .get_json()
    )
    found = rows(html)
    assert [r[0] for r in found] == [i["household"]["id"] for i in api["items"]]
    assert [r[2] == "是" for r in found] == [i["visited"] for i in api["items"]]
    assert [r[0] for r in found] == [data["h1"], data["h2"]]  # h6 is deleted
    assert re.search(r'户数 <b id="n-households">2</b>', html)
    assert re.search(r'已走访 <b id="n-visited">1</b>', html)
    # masked as the API masks: names and phones, building/unit/room
    assert "张*" in html and "138****1234" in html and "张三" not in html
    assert "13812341234" not in html and "*/*/*" in html
    # the last visit (any outcome) and the visits in the period with their visitor
    assert "2026-11-10 10:30 已见面" in html
    assert "2026-11-06 15:00 不在家（Worker）" in html
    assert '<span class="tag">独居老人</span>' in html


def test_unvisited_only(app, data):
    client = logged_in(app, "secretary")
    html = text(
        client.get(
            "/console/ledger", query_string={"grid": "370303001001-01", "unvisited": "1", **PERIOD}
        )
    )
    assert [r[0] for r in rows(html)] == [data["h2"]]
    assert 'name="unvisited" value="1" checked' in html
    export = re.search(r'<a class="btn secondary" href="([^"]+)">导出走访台账</a>', html)[1]
    assert unescape(export) == (
        "/api/v1/grids/370303001001-01/visit-ledger?format=xlsx"
        "&from=2026-11-01&to=2026-11-30&visited=false"
    )


def test_export_link_downloads_with_the_session(app, data):
    client = logged_in(app, "secretary")
    html = text(client.get("/console/ledger?grid=370303001001-01&period=all"))
    export = unescape(re.search(r'href="([^"]+)">导出走访台账</a>', html)[1])
    resp = client.get(export)
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")


def test_paging(app, data, monkeypatch):
    from survey_api.services import ledger

    monkeypatch.setattr(ledger, "PAGE", 1)
    client = logged_in(app, "secretary")
    html = text(client.get("/console/ledger?grid=370303001001-01&period=all"))
    assert [r[0] for r in rows(html)] == [data["h1"]]
    nxt = unescape(re.search(r'<a href="([^"]+)">下一页</a>', html)[1])
    html = text(client.get(nxt))
    assert [r[0] for r in rows(html)] == [data["h2"]]
    assert "下一页" not in html and "第一页" in html
    assert client.get("/console/ledger?grid=370303001001-01&cursor=garbage").status_code == 400


@pytest.mark.parametrize(
    "user, grid, status",
    [
        ("secretary", "370303001002-01", 404),  # another community's grid
        ("secretary", "370303001001", 404),  # not a grid
        ("street", "370303002001-01", 404),  # another street's
        ("secretary", "nope", 404),
        ("street", "370303001002-01", 200),
        ("district", "370303002001-01", 200),
        ("admin", "370303001001-02", 200),
    ],
)
def test_ledger_scope(app, data, user, grid, status):
    client = logged_in(app, user)
    resp = client.get("/console/ledger", query_string={"grid": grid})
    assert resp.status_code == status
    if status == 404:
        assert "不在您的管辖范围内" in text(resp)


@pytest.mark.parametrize("user", ["street", "district", "admin"])
def test_others_reach_a_grid_through_the_dashboard(app, data, user):
    html = text(logged_in(app, user).get("/console/ledger"))
    assert "走访台账按网格查看" in html and 'href="/console/units"' in html


def test_household_page(app, data):
    client = logged_in(app, "secretary")
    resp = client.get(f"/console/households/{data['h1']}")
    assert resp.status_code == 200
    html = text(resp)
    assert "<h1>住户 杏园路1号</h1>" in html
    assert "张*" in html and "138****1234" in html and "张三" not in html
    assert '<span class="tag">独居老人</span>' in html
    visits = re.search(r'<table class="list" id="visits">.*?</table>', html, re.S)[0]
    assert visits.index("2026-11-10 10:30") < visits.index("2026-11-05 09:00")  # newest first
    assert "独居老人，身体尚好" in visits and "不在家" in visits
    problems = re.search(r'<table class="list" id="problems">.*?</table>', html, re.S)[0]
    assert f'href="/console/problems/{data["p1"]}"' in problems
    assert f'href="/console/problems/{data["p5"]}"' in problems
    assert "已销号" in problems and "待受理" in problems
    assert data["p2"] not in problems  # h2's


@pytest.mark.parametrize(
    "user, key, status",
    [
        ("secretary2", "h1", 404),
        ("street2", "h1", 404),
        ("secretary", "h4", 404),
        ("secretary", "h6", 410),
        ("street", "h4", 200),
        ("district", "h5", 200),
    ],
)
def test_household_scope(app, data, user, key, status):
    resp = logged_in(app, user).get(f"/console/households/{data[key]}")
    assert resp.status_code == status


@pytest.mark.parametrize("bad", ["nope", "00000000-0000-0000-0000-000000000000", "..%2f.."])
def test_unknown_household(app, data, bad):
    assert logged_in(app, "admin").get(f"/console/households/{bad}").status_code == 404


def test_api_view_is_masked_the_same(app, auth, data):
    """The household page shows what GET /households/{id} shows a secretary."""
    html = text(logged_in(app, "secretary").get(f"/console/households/{data['h2']}"))
    api = (
        app.test_client()
        .get(
            f"/api/v1/households/{data['h2']}", headers=Auth(app.test_client()).headers("secretary")
        )
        .get_json()
    )
    for key in ("head_name", "phone", "building", "unit_no", "room", "address"):
        assert f"<dd>{api[key]}</dd>" in html, key
