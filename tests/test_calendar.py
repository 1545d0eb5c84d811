"""The working calendar API (admin) and survey-api calendar-import."""

import pytest
from conftest import assert_problem

from survey_api.cli import main
from survey_api.db import connect

API = "/api/v1/calendar"


def days(client, auth, query):
    resp = client.get(f"{API}?{query}", headers=auth.headers("admin"))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_lists_days_with_source_and_name(client, auth):
    body = days(client, auth, "from=2026-09-30&to=2026-10-11")
    by_date = {d["date"]: d for d in body["items"]}
    assert len(body["items"]) == 12 and body["next_cursor"] is None
    assert by_date["2026-09-30"] == {
        "date": "2026-09-30",
        "is_workday": True,
        "source": "package",
        "name": None,
    }
    assert by_date["2026-10-01"] == {
        "date": "2026-10-01",
        "is_workday": False,
        "source": "package",
        "name": "National Day",
    }
    assert by_date["2026-10-10"]["is_workday"] is True  # 调休 make-up workday
    assert by_date["2026-10-11"]["is_workday"] is False  # plain Sunday


def test_beyond_package_is_estimated(client, auth):
    items = days(client, auth, "from=2027-01-01&to=2027-01-04")["items"]
    assert [(d["is_workday"], d["source"]) for d in items] == [
        (True, "estimated"),
        (False, "estimated"),
        (False, "estimated"),
        (True, "estimated"),
    ]


def test_put_get_delete_override(client, auth):
    h = auth.headers("admin")
    resp = client.put(f"{API}/2027-01-01", json={"is_workday": False, "name": "元旦"}, headers=h)
    assert resp.status_code == 200
    assert resp.get_json() == {
        "date": "2027-01-01",
        "is_workday": False,
        "source": "override",
        "name": "元旦",
    }
    assert client.get(f"{API}/2027-01-01", headers=h).get_json()["source"] == "override"
    items = days(client, auth, "from=2027-01-01&to=2027-01-01")["items"]
    assert items == [
        {"date": "2027-01-01", "is_workday": False, "source": "override", "name": "元旦"}
    ]
    resp = client.put(f"{API}/2027-01-01", json={"is_workday": True}, headers=h)
    assert resp.get_json() == {
        "date": "2027-01-01",
        "is_workday": True,
        "source": "override",
        "name": None,
    }
    assert client.delete(f"{API}/2027-01-01", headers=h).status_code == 204
    assert client.get(f"{API}/2027-01-01", headers=h).get_json()["source"] == "estimated"
    assert_problem(client.delete(f"{API}/2027-01-01", headers=h), 404, "NOT_FOUND")
    audit = client.get("/api/v1/audit?action=calendar.set", headers=h)
    if audit.status_code == 200:
        assert audit.get_json()["items"][0]["target"] == "2027-01-01"


def test_pagination(client, auth):
    first = days(client, auth, "from=2026-10-01&to=2026-10-31&limit=10")
    assert [d["date"] for d in first["items"]][0] == "2026-10-01"
    assert len(first["items"]) == 10 and first["next_cursor"]
    seen = [d["date"] for d in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = days(client, auth, f"from=2026-10-01&to=2026-10-31&limit=10&cursor={cursor}")
        seen += [d["date"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [f"2026-10-{d:02d}" for d in range(1, 32)]


def test_default_range_is_paged(client, auth):
    body = days(client, auth, "")
    assert len(body["items"]) == 100 and body["next_cursor"]


@pytest.mark.parametrize(
    "query,field",
    [
        ("from=2026-10-05&to=2026-10-01", "from"),  # the one from-after-to rule names from
        ("to=2000-01-01", "to"),  # to before the default from (today)
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=@@@", "cursor"),
    ],
)
def test_bad_queries_are_422(client, auth, query, field):
    resp = client.get(f"{API}?{query}", headers=auth.headers("admin"))
    body = assert_problem(resp, 422, "VALIDATION_ERROR")
    assert field in body["errors"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "is_workday"),
        ({"is_workday": "yes"}, "is_workday"),
        ({"is_workday": 1}, "is_workday"),
        ({"is_workday": True, "name": "x" * 51}, "name"),
        ({"is_workday": True, "source": "override"}, "source"),
    ],
)
def test_bad_put_is_422(client, auth, body, field):
    resp = client.put(f"{API}/2027-01-01", json=body, headers=auth.headers("admin"))
    assert field in assert_problem(resp, 422, "VALIDATION_ERROR")["errors"]


@pytest.mark.parametrize("day", ["2027-1-1", "2027-02-30", "20270101", "..%2F..", "x" * 300])
def test_malformed_day_in_path_is_404(client, auth, day):
    h = auth.headers("admin")
    assert_problem(
        client.put(f"{API}/{day}", json={"is_workday": True}, headers=h), 404, "NOT_FOUND"
    )
    assert_problem(client.get(f"{API}/{day}", headers=h), 404, "NOT_FOUND")


@pytest.mark.parametrize("user", ["district", "street", "secretary", "worker"])
def test_calendar_is_admin_only(client, auth, user):
    h = auth.headers(user)
    assert_problem(client.get(API, headers=h), 403, "FORBIDDEN")
    assert_problem(client.get(f"{API}/2026-10-01", headers=h), 403, "FORBIDDEN")
    assert_problem(
        client.put(f"{API}/2026-10-01", json={"is_workday": True}, headers=h), 403, "FORBIDDEN"
    )
    assert_problem(client.delete(f"{API}/2026-10-01", headers=h), 403, "FORBIDDEN")


def test_calendar_requires_token(client):
    assert_problem(client.get(API), 401, "TOKEN_MISSING")


def test_cli_import(runner, app, tmp_path, client, auth):
    notice = tmp_path / "notice.csv"
    notice.write_text(
        "\ufeffdate,is_workday,name\n2027-02-06,0,春节\n2027-02-07,1,春节调休\n"
        "\n2027-02-08,false,春节\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["calendar-import", str(notice)])
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated" in result.output
    items = days(client, auth, "from=2027-02-06&to=2027-02-08")["items"]
    assert [(d["is_workday"], d["source"], d["name"]) for d in items] == [
        (False, "override", "春节"),
        (True, "override", "春节调休"),
        (False, "override", "春节"),
    ]
    again = runner.invoke(main, ["calendar-import", str(notice)])
    assert again.exit_code == 0 and "0 created, 3 updated" in again.output


def test_cli_import_bad_rows_import_nothing(runner, app, tmp_path):
    notice = tmp_path / "bad.csv"
    notice.write_text(
        "date,is_workday,name\n2027-02-06,0,春节\n2027-02-30,0,x\n"
        "2027-02-07,maybe,x\n2027-02-06,1,dup\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["calendar-import", str(notice)])
    assert result.exit_code == 1
    for needle in ("line 3", "line 4", "line 5", "Nothing imported"):
        assert needle in result.output
    conn = connect(app.config["DATABASE"])
    assert conn.execute("SELECT count(*) FROM calendar_overrides").fetchone()[0] == 0
    conn.close()


def test_cli_import_bad_header(runner, tmp_path):
    notice = tmp_path / "bad.csv"
    notice.write_text("day,workday\n2027-02-06,0\n", encoding="utf-8")
    result = runner.invoke(main, ["calendar-import", str(notice)])
    assert result.exit_code == 1 and "header" in result.output


def test_cli_import_help(runner):
    result = runner.invoke(main, ["calendar-import", "--help"])
    assert result.exit_code == 0 and "date,is_workday,name" in result.output


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-30",
        "from=9999-12-31&to=9999-12-31",
        "from=0001-01-01&to=0001-01-02",
        "from=9999-12-31T23:00:00-05:00",
    ],
)
def test_extreme_dates_do_not_crash(client, auth, query):
    resp = client.get(f"{API}?{query}", headers=auth.headers("admin"))
    assert resp.status_code in (200, 422), resp.get_json()
