"""The 统计 dashboard: its services (periods, weekly trend, the figures equal to the API's
summary) and its pages through the Flask test client."""

import re
from datetime import date
from html import unescape

import pytest
from conftest import Auth
from console_helpers import console_login, text
from list_data import PERIOD, build

from survey_api.db import connect, read_tx
from survey_api.services import dashboard, periods
from survey_api.services import summary as summary_service
from survey_api.storage import trends
from survey_api.storage import units as unit_store
from survey_api.timeutil import now_iso

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.fixture
def data(app, user_ids):
    return build(app.config["DATABASE"], user_ids["worker"])


@pytest.fixture
def conn(app):
    c = connect(app.config["DATABASE"])
    yield c
    c.close()


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, start, end",
    [
        ("week", date(2026, 11, 23), TODAY),
        ("month", date(2026, 11, 1), TODAY),
        ("year", date(2026, 1, 1), TODAY),
        ("all", None, None),
        (None, None, None),
        ("bogus", None, None),
    ],
)
def test_presets(key, start, end):
    period = periods.resolve(key, today=TODAY)
    assert (period.start, period.end) == (start, end)
    assert period.label == periods.PRESETS.get(key, "全部")


def test_dates_win_over_a_preset():
    period = periods.resolve("week", "2026-11-01", "2026-11-30", today=TODAY)
    assert period.key == "custom"
    assert period.query() == PERIOD
    assert period.label == "2026-11-01 至 2026-11-30"
    assert periods.resolve(None, "", "2026-11-30").query() == {"to": "2026-11-30"}


@pytest.mark.parametrize(
    "start, end, field",
    [
        ("2026-13-01", "", "from"),
        ("2026-1-1", "", "from"),
        ("", "yesterday", "to"),
        ("2026-11-30", "2026-11-01", "to"),
    ],
)
def test_bad_dates(start, end, field):
    with pytest.raises(periods.PeriodError) as info:
        periods.resolve(None, start, end)
    assert field in info.value.errors


def test_period_bounds_are_shanghai_days():
    lo, hi = periods.resolve(None, "2026-11-01", "2026-11-30").bounds()
    assert lo == "2026-10-31T16:00:00.000000+00:00"
    assert hi == "2026-11-30T15:59:59.999999+00:00"


# --- the weekly trend -----------------------------------------------------------------------


def test_found_and_rectified_per_week(conn, data):
    district = unit_store.get(conn, "370303")
    period = periods.resolve(None, PERIOD["from"], PERIOD["to"])
    with read_tx(conn):
        weeks = dashboard.weekly(conn, district, period, today=TODAY)
    assert [(w["monday"], w["found"], w["rectified"]) for w in weeks] == [
        ("2026-10-26", 0, 0),  # holds 1 November, a Sunday
        ("2026-11-02", 6, 1),  # p1 p2 p4 p5 p7 p8 found (p3 rejected); p1 rectified
        ("2026-11-09", 2, 2),  # p9 p10 found; p4 and p9 rectified
        ("2026-11-16", 0, 0),
        ("2026-11-23", 0, 0),
        ("2026-11-30", 0, 0),
    ]
    assert weeks[1]["label"] == "2026年第45周"
    assert weeks[1]["sunday"] == "2026-11-08"


def test_weekly_sums_equal_the_summary(conn, data):
    """Over all time, found adds up to the summary's problems and rectified to its rectified."""
    for code in ("370303", "370303001000", "370303001001", "370303001001-02"):
        unit = unit_store.get(conn, code)
        period = periods.resolve("all")
        with read_tx(conn):
            weeks = dashboard.weekly(conn, unit, period, today=TODAY)
            lo, hi = period.bounds()
            totals = summary_service.summary(conn, unit, lo=lo, hi=hi, now=now_iso())["totals"]
        assert sum(w["found"] for w in weeks) == totals["problems"], code
        assert sum(w["rectified"] for w in weeks) == totals["rectified"], code
        first = "2026-11-02" if code == "370303001001-02" else "2026-10-12"  # p6: 15 October
        assert weeks[0]["monday"] == first, code


@pytest.mark.parametrize("period_key", ["all", "month", "week"])
def test_weekly_series_equal_by_either_plan(conn, data, period_key):
    """A wide subtree reads the week indexes end to end, a narrow one seeks its grids: both
    plans count the same weeks for every unit and period."""
    period = periods.resolve(period_key)
    lo, hi = period.bounds()
    for code in ("370303", "370303001000", "370303001001", "370303001001-02"):
        path = unit_store.get(conn, code)["path"]
        for sql, column, index in (
            (trends._FOUND, "reported_at", "problems_found_week"),
            (trends._DONE, "rectified_at", "problems_done_week"),
        ):
            by_weeks = trends._series(conn, sql, column, index, path, lo, hi, wide=True)
            by_grids = trends._series(conn, sql, column, index, path, lo, hi, wide=False)
            assert by_weeks == by_grids, (code, column)
            if period_key == "all":
                assert sum(by_weeks.values()) > 0, (code, column)


def test_weekly_plan_follows_the_subtree_share(conn, data, monkeypatch):
    grids = conn.execute("SELECT count(*) FROM units WHERE level = 'grid'").fetchone()[0]
    one_grid = unit_store.get(conn, "370303001001-02")["path"]
    assert grids >= 2
    assert trends._is_wide(conn, "/370303/")
    monkeypatch.setattr(trends, "WIDE_SHARE", 1.5 / grids)  # one grid is less than this
    assert not trends._is_wide(conn, one_grid)
    assert trends._is_wide(conn, "/370303/")
    monkeypatch.setattr(trends, "WIDE_SHARE", 0.5 / grids)
    assert trends._is_wide(conn, one_grid)


def test_weekly_open_period_without_data_is_this_week(conn):
    unit = unit_store.get(conn, "370303")
    weeks = dashboard.weekly(conn, unit, periods.resolve("all"), today=TODAY)
    assert [(w["monday"], w["found"]) for w in weeks] == [("2026-11-23", 0)]


def test_by_category_most_first(conn, data):
    rows = dashboard.by_category(conn, {"safety.fire": 2, "other.other": 1, "heating.no_heat": 3})
    assert [(r["name"], r["group"], r["count"]) for r in rows] == [
        ("不供暖或温度不达标", "供暖", 3),
        ("消防隐患", "安全隐患", 2),
        ("其他", "其他", 1),
    ]


# --- the page -----------------------------------------------------------------------------

_FIGURE = re.compile(r'<dd data-key="(\w+)">(?:<a href="([^"]*)">)?([^<]+)')
_CHILD_ROW = re.compile(r'<th scope="row"><a href="(/console/units/[^"?]+)[^"]*">([^<]+)</a></th>')


def figures(html):
    """{metric: (text, link or None)} of the figures on a dashboard page."""
    return {
        key: (value, unescape(link) if link else None) for key, link, value in _FIGURE.findall(html)
    }


def as_text(value, key):
    return f"{value:.1f}%" if key.endswith("_pct") else f"{value:,}"


def api_summary(client, auth, code, user, params):
    resp = client.get(
        f"/api/v1/units/{code}/summary", query_string=params, headers=auth.headers(user)
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize(
    "user, code",
    [
        ("district", "370303"),
        ("street", "370303001000"),
        ("secretary", "370303001001"),
        ("admin", "370303"),
        ("admin", "370303001001-01"),
        ("district", "370303001002"),
    ],
)
@pytest.mark.parametrize("params", [PERIOD, {}])
def test_figures_equal_the_api_summary(app, auth, data, user, code, params):
    page_client = app.test_client()
    console_login(page_client, user)
    resp = page_client.get(f"/console/units/{code}", query_string=params)
    assert resp.status_code == 200, text(resp)[:300]
    html = text(resp)
    body = api_summary(app.test_client(), auth, code, user, params)
    shown = figures(html)
    assert [k for k, _label, _pct in dashboard.FIGURES] == list(shown)
    for key, (value, _link) in shown.items():
        assert value == as_text(body["totals"][key], key), key
    assert f"<h1>{body['unit']['name']}统计</h1>" in html
    for label in (
        "户数",
        "已走访",
        "走访覆盖率",
        "问题数",
        "整改率",
        "按时整改率",
        "超期",
        "满意率",
    ):
        assert f"<dt>{label}</dt>" in html
    # the children's table has every child with the same numbers as the API's children
    for child in body["children"]:
        row = re.search(
            rf'<a href="/console/units/{re.escape(child["code"])}[^"]*">'
            rf"{re.escape(child['name'])}</a></th>(.*?)</tr>",
            html,
            re.S,
        )
        assert row, child["code"]
        cells = re.findall(r'<td class="num" data-key="(\w+)">(?:<a [^>]*>)?([^<]+)', row[1])
        assert cells == [(k, as_text(child[k], k)) for k, _l, _p in dashboard.FIGURES]


def test_known_figures_of_november(app, data):
    client = app.test_client()
    console_login(client, "secretary")
    shown = figures(text(client.get("/console/units/370303001001", query_string=PERIOD)))
    assert {k: v for k, (v, _link) in shown.items()} == {
        "households": "3",
        "visited": "1",
        "coverage_pct": "33.3%",
        "problems": "6",
        "rectification_rate_pct": "33.3%",
        "on_time_rate_pct": "50.0%",
        "overdue": "1",
        "satisfaction_rate_pct": "50.0%",
    }


def test_figures_link_to_their_queues(app, data):
    client = app.test_client()
    console_login(client, "street")
    shown = figures(text(client.get("/console/units/370303001000", query_string=PERIOD)))
    query = "&from=2026-11-01&to=2026-11-30"
    assert shown["overdue"][1] == "/console/problems?queue=overdue&grid=370303001000" + query
    assert shown["problems"][1] == "/console/problems?queue=all&grid=370303001000" + query
    assert shown["households"][1] is None  # a street has no single ledger
    overdue_page = text(client.get(shown["overdue"][1]))
    assert "共 1 条" in overdue_page  # p2 (p8 is suspended, p6 reported in October)


def test_a_grid_links_its_households_to_the_ledger(app, data):
    client = app.test_client()
    console_login(client, "secretary")
    html = text(client.get("/console/units/370303001001-01?period=all"))
    shown = figures(html)
    assert shown["households"][1] == "/console/ledger?grid=370303001001-01&period=all"
    assert shown["coverage_pct"][1] == "/console/ledger?grid=370303001001-01&period=all&unvisited=1"
    assert "查看本网格走访台账" in html


def test_drill_down_district_to_grid(app, data):
    client = app.test_client()
    console_login(client, "district")
    path = ["370303", "370303001000", "370303001001", "370303001001-02"]
    url = "/console/units/370303?period=year"
    for here, there in zip(path, path[1:], strict=False):
        html = text(client.get(url))
        links = dict((name, href) for href, name in _CHILD_ROW.findall(html))
        target = [href for href in links.values() if href.endswith("/" + there)]
        assert target, (here, links)
        assert f"/console/units/{there}?period=year" in html  # the period goes along
        url = f"/console/units/{there}?period=year"
    html = text(client.get(url))
    assert "<h1>杏园二网格统计</h1>" in html
    assert 'href="/console/units/370303001001?period=year">杏园社区</a>' in html  # the way back


@pytest.mark.parametrize(
    "user, code",
    [
        ("street", "370303002000"),
        ("street", "370303"),
        ("secretary", "370303001002"),
        ("secretary", "370303001000"),
        ("secretary", "370303002001-01"),
        ("district", "999999"),
        ("admin", "nope"),
    ],
)
def test_out_of_scope_is_a_404_page(app, data, user, code):
    client = app.test_client()
    console_login(client, user)
    resp = client.get(f"/console/units/{code}")
    assert resp.status_code == 404
    assert "不在您的管辖范围内" in text(resp)
    assert client.get(f"/console/units/{code}/charts.json").status_code == 404


def test_period_links_and_bad_dates(app, data):
    client = app.test_client()
    console_login(client, "district")
    html = text(client.get("/console/units/370303?period=month"))
    for key, label in periods.PRESETS.items():
        assert f'href="/console/units/370303?period={key}"' in html and f">{label}</a>" in html
    assert 'aria-current="true">本月</a>' in html
    resp = client.get("/console/units/370303?from=2026-11-31")
    assert resp.status_code == 200
    assert "日期格式应为 YYYY-MM-DD：2026-11-31" in text(resp)
    assert "统计期间：全部" in text(resp)


def test_own_unit_is_the_front_of_statistics(app, data):
    for user, code in (
        ("street", "370303001000"),
        ("secretary", "370303001001"),
        ("admin", "370303"),
    ):
        client = app.test_client()
        console_login(client, user)
        resp = client.get("/console/units")
        assert resp.status_code == 302 and resp.location.endswith(f"/console/units/{code}")


def test_charts_json_matches_the_tables(app, data):
    client = app.test_client()
    console_login(client, "district")
    html = text(client.get("/console/units/370303", query_string=PERIOD))
    holder = re.search(r'data-charts-url="([^"]+)"', html)[1]
    body = client.get(unescape(holder)).get_json()
    api = api_summary(app.test_client(), Auth(app.test_client()), "370303", "district", PERIOD)
    assert body["children"]["names"] == [c["name"] for c in api["children"]]
    assert body["children"]["coverage_pct"] == [c["coverage_pct"] for c in api["children"]]
    assert body["children"]["rectification_rate_pct"] == [
        c["rectification_rate_pct"] for c in api["children"]
    ]
    assert sum(c["value"] for c in body["categories"]) == api["totals"]["problems"]
    assert sum(body["weeks"]["found"]) == api["totals"]["problems"]
    assert body["weeks"]["labels"][1] == "2026年第45周"
    weeks_table = re.search(r'<table class="list" id="weeks">.*?</table>', html, re.S)[0]
    assert '<td class="num">6</td><td class="num">1</td>' in weeks_table


def test_pages_carry_no_inline_script(app, data):
    client = app.test_client()
    console_login(client, "district")
    resp = client.get("/console/units/370303")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text(resp), re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert any("echarts.min.js" in attrs for attrs, _ in scripts)


def test_needs_a_session(client):
    resp = client.get("/console/units/370303")
    assert resp.status_code == 302 and "/console/login" in resp.location
