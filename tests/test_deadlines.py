"""Working-day deadlines: weekends, National Day 2026, 调休, beyond the package, overrides."""

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import assert_problem

from survey_api.cli import main
from survey_api.db import connect, write_tx
from survey_api.services import deadlines, lifecycle
from survey_api.storage import calendar as calendar_store
from survey_api.timeutil import SHANGHAI, parse_iso


@pytest.fixture
def conn(app):
    c = connect(app.config["DATABASE"])
    yield c
    c.close()


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def end_of(y, m, d):
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


def test_across_a_weekend(conn):
    # Accepted Friday 2026-11-20: Mon 23, Tue 24, Wed 25.
    assert deadlines.due_after(conn, at(2026, 11, 20), 3) == (end_of(2026, 11, 25), False)


def test_day_one_is_the_first_working_day_after_acceptance(conn):
    # Accepted Monday: day 1 is Tuesday, even when accepted at 00:01.
    assert deadlines.due_after(conn, at(2026, 11, 16, 0, 1), 1) == (end_of(2026, 11, 17), False)
    # Accepted on a Sunday: day 1 is Monday.
    assert deadlines.due_after(conn, at(2026, 11, 22), 1) == (end_of(2026, 11, 23), False)


def test_acceptance_date_is_taken_in_shanghai(conn):
    # 2026-11-19T16:30Z is Friday 00:30 in Shanghai: Mon 23, Tue 24, Wed 25
    # (counting from the UTC date, Thursday, would give Tuesday 24).
    accepted = datetime(2026, 11, 19, 16, 30, tzinfo=UTC)
    assert deadlines.due_after(conn, accepted, 3) == (end_of(2026, 11, 25), False)


def test_across_national_day_2026_with_make_up_workday(conn):
    # Accepted Wed 2026-09-30. Oct 1–7 are holidays; Thu 8, Fri 9 work; Sat 10 is a
    # make-up workday (调休) in the package; Sun 11 is off.
    assert deadlines.due_after(conn, at(2026, 9, 30), 1) == (end_of(2026, 10, 8), False)
    assert deadlines.due_after(conn, at(2026, 9, 30), 3) == (end_of(2026, 10, 10), False)
    assert deadlines.due_after(conn, at(2026, 9, 30), 4) == (end_of(2026, 10, 12), False)
    # Accepted inside the holiday.
    assert deadlines.due_after(conn, at(2026, 10, 3), 3) == (end_of(2026, 10, 10), False)


def test_make_up_workday_counts(conn):
    # Friday 2026-10-09 + 1 working day = Saturday 2026-10-10 (调休上班).
    assert deadlines.due_after(conn, at(2026, 10, 9), 1) == (end_of(2026, 10, 10), False)
    day = deadlines.day(conn, date(2026, 10, 10))
    assert (day.is_workday, day.source) == (True, "package")


def test_beyond_the_package_is_monday_to_friday_estimated(conn):
    # chinesecalendar 1.11 has no 2027: Mon–Fri, flagged estimated, no crash.
    assert deadlines.due_after(conn, at(2027, 3, 5), 3) == (end_of(2027, 3, 10), True)
    # Crossing from known into unknown data is estimated too.
    assert deadlines.due_after(conn, at(2026, 12, 30), 3) == (end_of(2027, 1, 4), True)
    # Far future.
    due, estimated = deadlines.due_after(conn, at(2040, 6, 1), 3)
    assert estimated is True and due.date() == date(2040, 6, 6)
    assert deadlines.day(conn, date(2027, 1, 2)).source == "estimated"


def test_urgent_is_24_hours_and_never_estimated(conn):
    accepted = at(2027, 5, 1, 9, 30)
    assert deadlines.due_after(conn, accepted, 3, urgent=True) == (
        accepted + timedelta(hours=24),
        False,
    )


def test_override_beats_the_package(conn):
    with write_tx(conn):
        calendar_store.put(conn, "2026-10-10", False, "调休取消")
    assert deadlines.due_after(conn, at(2026, 9, 30), 3) == (end_of(2026, 10, 12), False)
    with write_tx(conn):
        calendar_store.put(conn, "2026-11-21", True, "加班")  # a Saturday made a workday
    assert deadlines.due_after(conn, at(2026, 11, 20), 1) == (end_of(2026, 11, 21), False)


def test_override_beyond_the_package_is_not_estimated(conn):
    with write_tx(conn):
        for d in (4, 5, 6):
            calendar_store.put(conn, f"2027-01-0{d}", True, None)
    # Accepted Sun 2027-01-03: days 4, 5, 6 all come from the override table.
    assert deadlines.due_after(conn, at(2027, 1, 3), 3) == (end_of(2027, 1, 6), False)


def test_working_days_between_and_shift(conn):
    between = deadlines.working_days_between
    assert between(conn, date(2026, 11, 16), date(2026, 11, 16)) == (0, False)
    assert between(conn, date(2026, 11, 20), date(2026, 11, 23)) == (1, False)
    assert between(conn, date(2026, 9, 30), date(2026, 10, 10)) == (3, False)
    assert between(conn, date(2026, 12, 30), date(2027, 1, 4))[1] is True
    assert deadlines.shift_due(conn, end_of(2026, 11, 20), 1) == (end_of(2026, 11, 23), False)
    urgent_due = at(2026, 11, 20, 14, 15)
    assert deadlines.shift_due(conn, urgent_due, 2) == (at(2026, 11, 24, 14, 15), False)


def test_next_working_day_end(conn):
    assert deadlines.next_working_day_end(conn, at(2026, 11, 20)) == end_of(2026, 11, 23)
    assert deadlines.next_working_day_end(conn, at(2026, 9, 30)) == end_of(2026, 10, 8)


def test_accept_uses_category_working_days(client, auth, monkeypatch):
    monkeypatch.setattr(lifecycle, "clock", lambda: at(2026, 11, 16))
    resp = client.patch(
        "/api/v1/categories/heating.no_heat",
        json={"working_days": 5},
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 200 and resp.get_json()["working_days"] == 5
    p = _report(client, auth, category="heating.no_heat")
    p = _act(client, auth, p, "accept")
    assert parse_iso(p["due_at"]) == end_of(2026, 11, 23)  # Mon + 5 working days
    q = _act(client, auth, _report(client, auth), "accept")
    assert parse_iso(q["due_at"]) == end_of(2026, 11, 19)  # default 3


def test_accept_urgent_via_api(client, auth, monkeypatch):
    accepted = at(2027, 2, 5, 16, 45)
    monkeypatch.setattr(lifecycle, "clock", lambda: accepted)
    p = _act(client, auth, _report(client, auth, urgency="urgent"), "accept")
    assert parse_iso(p["due_at"]) == accepted + timedelta(hours=24)
    assert parse_iso(p["accepted_at"]) == accepted
    assert p["due_estimated"] is False
    assert p["events"][-1]["payload"]["working_days"] is None


def test_accept_beyond_package_via_api_is_estimated(client, auth, monkeypatch):
    monkeypatch.setattr(lifecycle, "clock", lambda: at(2027, 3, 5))
    p = _act(client, auth, _report(client, auth), "accept")
    assert parse_iso(p["due_at"]) == end_of(2027, 3, 10)
    assert p["due_estimated"] is True


def test_override_via_api_applies_to_later_deadlines(client, auth, monkeypatch):
    monkeypatch.setattr(lifecycle, "clock", lambda: at(2026, 11, 20))
    first = _act(client, auth, _report(client, auth), "accept")
    assert parse_iso(first["due_at"]) == end_of(2026, 11, 25)
    resp = client.put(
        "/api/v1/calendar/2026-11-24",
        json={"is_workday": False, "name": "停工"},
        headers=auth.headers("admin"),
    )
    assert resp.status_code == 200
    second = _act(client, auth, _report(client, auth), "accept")
    assert parse_iso(second["due_at"]) == end_of(2026, 11, 26)
    again = client.get(f"/api/v1/problems/{first['id']}", headers=auth.headers("admin"))
    assert again.get_json()["due_at"] == first["due_at"]  # computed deadlines stay


def test_override_imported_via_cli_applies(client, auth, runner, tmp_path, monkeypatch):
    notice = tmp_path / "2027.csv"
    notice.write_text(
        "date,is_workday,name\n2027-10-01,0,国庆节\n2027-10-04,0,国庆节\n"
        "2027-10-05,0,国庆节\n2027-10-06,0,国庆节\n2027-10-07,0,国庆节\n"
        "2027-10-08,1,国庆节调休\n2027-10-09,1,国庆节调休\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["calendar-import", str(notice)])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(lifecycle, "clock", lambda: at(2027, 9, 30))
    p = _act(client, auth, _report(client, auth), "accept")
    # Thu 30 Sep → Fri 1 off, 4–7 off; Fri 8 and Sat 9 (make-up) are days 1 and 2; day 3 is
    # Mon 11 — an estimated day (no package data for 2027).
    assert parse_iso(p["due_at"]) == end_of(2027, 10, 11)
    assert p["due_estimated"] is True


def test_extend_bad_due_type_is_422(client, auth):
    p = _act(client, auth, _report(client, auth), "accept")
    resp = client.post(
        f"/api/v1/problems/{p['id']}/actions",
        json={"action": "extend", "base_version": p["version"], "due_at": 5, "reason": "x"},
        headers=auth.headers("secretary"),
    )
    assert_problem(resp, 422, "VALIDATION_ERROR")


def _report(client, auth, **extra):
    body = {
        "grid_code": "370303001001-01",
        "category": "safety.fire",
        "description": "消防通道堵塞",
        **extra,
    }
    resp = client.post("/api/v1/problems", json=body, headers=auth.headers("worker"))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _act(client, auth, p, action, **params):
    resp = client.post(
        f"/api/v1/problems/{p['id']}/actions",
        json={"action": action, "base_version": p["version"], **params},
        headers=auth.headers("secretary"),
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
