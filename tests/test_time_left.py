"""剩余时限 (DESIGN §11): working days left, overdue, done — from the working calendar."""

from datetime import datetime

import pytest

from survey_api import labels
from survey_api.db import get_db
from survey_api.services.deadlines import TimeLeft
from survey_api.timeutil import SHANGHAI


def _at(y, m, d, h=10):
    return datetime(y, m, d, h, 0, tzinfo=SHANGHAI)


def _due(y, m, d):
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def time_left(app):
    with app.app_context():
        # Wednesday 2026-11-25, 10:00 Shanghai.
        yield TimeLeft(get_db().conn, _at(2026, 11, 25))


@pytest.mark.parametrize(
    ("status", "due", "text"),
    [
        ("accepted", _due(2026, 11, 27), "剩2个工作日"),  # Thu, Fri
        ("rectifying", _due(2026, 11, 30), "剩3个工作日"),  # Thu, Fri, (weekend), Mon
        ("assigned", _due(2026, 11, 25), "剩0个工作日"),  # due tonight
        ("accepted", _due(2026, 11, 24), "超期1个工作日"),  # due yesterday
        ("accepted", _due(2026, 11, 20), "超期3个工作日"),  # Fri → Mon, Tue, Wed
        ("rectified", _due(2026, 11, 20), "已完成"),
        ("closed", None, "已完成"),
        ("rejected", None, ""),
        ("reported", None, ""),
        ("suspended", _due(2026, 11, 20), ""),  # never overdue while suspended
    ],
)
def test_time_left_text(time_left, status, due, text):
    assert time_left.text(status, due) == text


def test_time_left_reads_stored_iso_text(time_left):
    assert time_left.text("accepted", "2026-11-27T15:59:59.000000+00:00") == "剩2个工作日"


def test_overdue_counts_at_least_one_day_over_a_weekend(app):
    with app.app_context():
        saturday = TimeLeft(get_db().conn, _at(2026, 11, 28))
        assert saturday.text("accepted", _due(2026, 11, 27)) == "超期1个工作日"


def test_time_left_follows_holidays(app):
    """National Day 2026: 1–7 October off, so a due date of 9 October seen on 30 September
    is 2 working days away (the 8th and the 9th)."""
    with app.app_context():
        tl = TimeLeft(get_db().conn, _at(2026, 9, 30))
        assert tl.text("accepted", _due(2026, 10, 9)) == "剩2个工作日"


def test_labels_cover_every_status_and_read_unknown_codes_as_themselves():
    from survey_api.statuses import STATUSES

    assert set(labels.STATUS) == set(STATUSES)
    assert labels.label("status", "closed") == "已销号"
    assert labels.label("source", "hotline") == "12345热线"
    assert labels.label("urgency", "odd") == "odd"
    assert labels.yes_no(1) == "是" and labels.yes_no(False) == "否"
    assert labels.yes_no(None) is None
    assert labels.tags(["elderly_alone", "rental"]) == "独居老人、出租户"


def test_counts_equal_working_days_between_for_every_date(app):
    """TimeLeft counts from cumulative working days (each day looked at once, whatever the
    number of due dates an export asks for); every date, asked in any order, must give what
    working_days_between gives: the 2026 National Day holiday with its make-up workday and
    the estimated 2027 included."""
    import random
    from datetime import timedelta

    from survey_api.services.deadlines import working_days_between

    with app.app_context():
        conn = get_db().conn
        now = _at(2026, 11, 25)
        today = now.date()
        dates = [today + timedelta(days=k) for k in range(-420, 420)]
        random.Random(7).shuffle(dates)
        time_left = TimeLeft(conn, now)
        for d in dates:
            due = _due(d.year, d.month, d.day)
            found = time_left.of("accepted", due)
            if due < now:
                n, _ = working_days_between(conn, d, today)
                assert found == ("overdue", max(n, 1)), d
            else:
                n, _ = working_days_between(conn, today, d)
                assert found == ("left", n), d
