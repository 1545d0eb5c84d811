"""The 统计 dashboard: its services (periods, weekly trend, the figures equal to the API's
summary) and its pages through the Flask test client."""

from datetime import date

import pytest
from list_data import PERIOD, build

from survey_api.db import connect, read_tx
from survey_api.services import dashboard, periods
from survey_api.storage import units as unit_store

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

@pytest.mark.parametrize("key, start, end", [
    ("week", date(2026, 11, 23), TODAY),
    ("month", date(2026, 11, 1), TODAY),
    ("year", date(2026, 1, 1), TODAY),
    ("all", None, None),
    (None, None, None),
    ("bogus", None, None),
])
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


@pytest.mark.parametrize("start, end, field", [
    ("2026-13-01", "", "from"), ("2026-1-1", "", "from"), ("", "yesterday", "to"),
    ("2026-11-30", "2026-11-01", "to"),
])
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
        ("2026-10-26", 0, 0),   # holds 1 November, a Sunday
        ("2026-11-02", 6, 1),   # p1 p2 p4 p5 p7 p8 found (p3 rejected); p1 rectified
        ("2026-11-09", 2, 2),   # p9 p10 found; p4 and p9 rectified
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
            totals = dashboard.summary(conn, unit, period)["totals"]
        assert sum(w["found"] for w in weeks) == totals["problems"], code
        assert sum(w["rectified"] for w in weeks) == totals["rectified"], code
        first = "2026-11-02" if code == "370303001001-02" else "2026-10-12"  # p6: 15 October
        assert weeks[0]["monday"] == first, code


def test_weekly_open_period_without_data_is_this_week(conn):
    unit = unit_store.get(conn, "370303")
    weeks = dashboard.weekly(conn, unit, periods.resolve("all"), today=TODAY)
    assert [(w["monday"], w["found"]) for w in weeks] == [("2026-11-23", 0)]


def test_by_category_most_first(conn, data):
    rows = dashboard.by_category(conn, {"safety.fire": 2, "other.other": 1, "heating.no_heat": 3})
    assert [(r["name"], r["group"], r["count"]) for r in rows] == [
        ("不供暖或温度不达标", "供暖", 3), ("消防隐患", "安全隐患", 2), ("其他", "其他", 1)]
