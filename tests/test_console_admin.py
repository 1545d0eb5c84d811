"""管理 through the Flask test client: admin only; users, units, calendar and audit log go
through the same services and schemas as the API, with CSRF on every form."""

import io
import re
from html import unescape

import pytest
from conftest import PASSWORD
from console_helpers import console_login, csrf_of, text

from survey_api.db import connect
from survey_api.storage import users as user_store

PAGES = [
    "/console/admin/users",
    "/console/admin/units",
    "/console/admin/calendar",
    "/console/admin/audit",
]


def admin_client(app, user="admin"):
    client = app.test_client()
    console_login(client, user)
    return client, csrf_of(client)


def flashes(html):
    return [unescape(m) for m in re.findall(r'<p class="flash[^"]*">([^<]*)</p>', html)]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("user", ["district", "street", "secretary"])
def test_others_get_403(app, page, user):
    client, _ = admin_client(app, user)
    resp = client.get(page)
    assert resp.status_code == 403 and "没有权限" in text(resp)


@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_render(app, page):
    client, _ = admin_client(app)
    resp = client.get(page)
    assert resp.status_code == 200
    assert ">管理</a>" in text(resp)


def test_admin_link_only_for_admin(app):
    client, _ = admin_client(app, "district")
    assert 'href="/console/admin/users"' not in text(client.get("/console/units/370303"))
    client, _ = admin_client(app)
    assert 'href="/console/admin/users"' in text(client.get("/console/units/370303"))


def test_posts_without_csrf_change_nothing(app, user_ids):
    client, _ = admin_client(app)
    for url, data in [
        ("/console/admin/users", {"username": "x1", "password": "long-enough-1", "role": "admin"}),
        (f"/console/admin/users/{user_ids['worker']}/active", {"active": "0"}),
        (
            "/console/admin/units",
            {"code": "370303003000", "name": "新街道", "level": "street", "parent_code": "370303"},
        ),
        ("/console/admin/calendar", {"date": "2027-01-04", "is_workday": "0"}),
    ]:
        assert client.post(url, data=data).status_code == 403, url
    conn = connect(app.config["DATABASE"])
    assert user_store.get_by_username(conn, "x1") is None
    assert user_store.get(conn, user_ids["worker"])["active"]
    assert conn.execute("SELECT count(*) FROM units WHERE code = '370303003000'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM calendar_overrides").fetchone()[0] == 0


# --- users ---------------------------------------------------------------------------------


def test_list_users(app):
    client, _ = admin_client(app)
    html = text(client.get("/console/admin/users"))
    for username in ("admin", "district", "secretary", "worker3"):
        assert f'<tr id="user-{username}">' in html
    assert "杏园社区（370303001001）" in html and "社区书记" in html
    own = re.search(r'<tr id="user-admin">.*?</tr>', html, re.S)[0]
    assert "停用" not in own and "重置密码" in own  # the admin cannot lock itself out here
    other = re.search(r'<tr id="user-district">.*?</tr>', html, re.S)[0]
    assert ">停用</button>" in other
    html = text(client.get("/console/admin/users?role=grid_worker"))
    assert 'id="user-worker"' in html and 'id="user-secretary"' not in html


def test_create_user_who_then_logs_in(app):
    client, csrf = admin_client(app)
    resp = client.post(
        "/console/admin/users",
        data={
            "csrf_token": csrf,
            "username": "newsec",
            "display_name": "新书记",
            "role": "secretary",
            "unit_codes": "370303001002",
            "password": "a-new-password",
        },
    )
    assert resp.status_code == 302 and resp.location.endswith("/console/admin/users")
    html = text(client.get(resp.location))
    assert "已创建用户 newsec（社区书记）" in flashes(html)
    assert '<tr id="user-newsec">' in html
    other = app.test_client()
    assert console_login(other, "newsec", "a-new-password").status_code == 302
    assert "华光社区统计" in text(other.get("/console/units/370303001002"))
    entry = text(client.get("/console/admin/audit?action=user.create"))
    assert "newsec" in entry and "admin" in entry


@pytest.mark.parametrize(
    "form, message",
    [
        (
            {"username": "secretary", "role": "secretary", "unit_codes": "370303001002"},
            "用户名：该用户名已被使用",
        ),
        (
            {"username": "s9", "role": "secretary", "unit_codes": "370303001000"},
            "所属单位：370303001000 是街道，该角色应属于社区",
        ),
        (
            {"username": "s9", "role": "secretary", "unit_codes": ""},
            "所属单位：该角色必须填写所属单位",
        ),
        (
            {
                "username": "s9",
                "role": "secretary",
                "unit_codes": "370303001002",
                "password": "short",
            },
            "密码：长度应为 8 到 1024 个字符",
        ),
        (
            {"username": "bad name", "role": "secretary", "unit_codes": "370303001002"},
            "用户名：格式不正确",
        ),
    ],
)
def test_create_user_refusals(app, form, message):
    client, csrf = admin_client(app)
    data = {"csrf_token": csrf, "password": "long-enough-1", **form}
    resp = client.post("/console/admin/users", data=data)
    assert resp.status_code == 302
    html = text(client.get(resp.location))
    assert any(f.startswith(message) for f in flashes(html)), flashes(html)
    assert 'value="{}"'.format(form["username"]) in html  # the form keeps what was typed
    conn = connect(app.config["DATABASE"])
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 9


def test_disable_and_enable(app, user_ids):
    worker_app_client = app.test_client()
    assert console_login(worker_app_client, "secretary").status_code == 302
    client, csrf = admin_client(app)
    resp = client.post(
        f"/console/admin/users/{user_ids['secretary']}/active",
        data={"csrf_token": csrf, "active": "0"},
        headers={"Referer": "http://localhost/console/admin/users"},
    )
    assert resp.status_code == 302
    html = text(client.get("/console/admin/users"))
    assert "secretary：已停用" in flashes(html)
    row = re.search(r'<tr id="user-secretary">.*?</tr>', html, re.S)[0]
    assert "已停用" in row and ">启用</button>" in row
    # the disabled user's session ends at once, and a new login is refused
    assert worker_app_client.get("/console/units/370303001001").status_code == 302
    assert console_login(app.test_client(), "secretary").status_code == 401
    client.post(
        f"/console/admin/users/{user_ids['secretary']}/active",
        data={"csrf_token": csrf, "active": "1"},
    )
    assert console_login(app.test_client(), "secretary").status_code == 302


def test_reset_password(app, user_ids):
    client, csrf = admin_client(app)
    resp = client.post(
        f"/console/admin/users/{user_ids['street']}/password",
        data={"csrf_token": csrf, "password": "brand-new-pass"},
    )
    assert "street：已重置密码" in flashes(text(client.get(resp.location)))
    assert console_login(app.test_client(), "street").status_code == 401
    assert console_login(app.test_client(), "street", "brand-new-pass").status_code == 302
    resp = client.post(
        f"/console/admin/users/{user_ids['street']}/password",
        data={"csrf_token": csrf, "password": "short"},
    )
    assert any("密码：" in f for f in flashes(text(client.get(resp.location))))


def test_unknown_user_is_404(app):
    client, csrf = admin_client(app)
    resp = client.post(
        "/console/admin/users/00000000-0000-4000-8000-000000000000/active",
        data={"csrf_token": csrf, "active": "0"},
    )
    assert resp.status_code == 404


# --- units ---------------------------------------------------------------------------------


def test_unit_tree(app):
    client, _ = admin_client(app)
    html = text(client.get("/console/admin/units"))
    order = [
        html.index(f'<tr id="u-{c}">')
        for c in (
            "370303",
            "370303001000",
            "370303001001",
            "370303001001-01",
            "370303001001-02",
            "370303001002",
            "370303002000",
        )
    ]
    assert order == sorted(order)  # depth first
    assert '<td class="depth-3"><a href="/console/units/370303001001-01">杏园一网格</a>' in html
    assert "单位树（10 个）" in html


def test_create_and_rename_unit(app):
    client, csrf = admin_client(app)
    resp = client.post(
        "/console/admin/units",
        data={
            "csrf_token": csrf,
            "code": "370303003000",
            "name": "新村街道",
            "level": "street",
            "parent_code": "370303",
        },
    )
    assert "已新增街道 新村街道（370303003000）" in flashes(text(client.get(resp.location)))
    resp = client.post(
        "/console/admin/units/370303003000", data={"csrf_token": csrf, "name": "新村街道办"}
    )
    assert "已更名：370303003000 新村街道办" in flashes(text(client.get(resp.location)))
    resp = client.post(
        "/console/admin/units",
        data={
            "csrf_token": csrf,
            "code": "370303001001-09",
            "name": "九网格",
            "level": "grid",
            "parent_code": "370303001000",
        },
    )
    html = text(client.get(resp.location))
    assert any(f == "上级编码：上级必须是已有的社区" for f in flashes(html))
    assert (
        client.post("/console/admin/units/nope", data={"csrf_token": csrf, "name": "x"}).status_code
        == 404
    )


def test_import_units(app):
    client, csrf = admin_client(app)
    good = (
        "code,name,level,parent_code\r\n370303002001-02,世纪二网格,grid,370303002001\r\n"
        "370303001002,华光新社区,community,370303001000\r\n"
    ).encode("utf-8-sig")
    resp = client.post(
        "/console/admin/units/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(good), "units.csv")},
        content_type="multipart/form-data",
    )
    html = text(client.get(resp.location))
    assert "已导入单位：新增 1 个，更新 1 个" in flashes(html)
    assert "世纪二网格" in html and "华光新社区" in html
    bad = b"code,name,level,parent_code\n370303009-01,X,grid,370303009\n"
    resp = client.post(
        "/console/admin/units/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(bad), "bad.csv")},
        content_type="multipart/form-data",
    )
    shown = flashes(text(client.get(resp.location)))
    assert shown[0] == "未导入：1 处错误" and shown[1].startswith("row 2: parent")
    resp = client.post(
        "/console/admin/units/import",
        data={"csrf_token": csrf, "file": (io.BytesIO("编码".encode("gbk")), "gbk.csv")},
        content_type="multipart/form-data",
    )
    assert "文件不是 UTF-8 编码的文本，未导入" in flashes(text(client.get(resp.location)))


# --- calendar ------------------------------------------------------------------------------


def test_calendar_override_set_and_delete(app, auth):
    client, csrf = admin_client(app)
    resp = client.post(
        "/console/admin/calendar",
        data={"csrf_token": csrf, "date": "2027-02-08", "is_workday": "0", "name": "春节"},
    )
    assert resp.location.endswith("/console/admin/calendar?month=2027-02")
    html = text(client.get(resp.location))
    assert "已设置 2027-02-08 为休息日" in flashes(html)
    assert "<h2>2027年2月</h2>" in html
    assert re.search(
        r"<td class=\"nowrap\">2027-02-08</td><td>一</td><td><b>休息日</b></td>"
        r"<td>手工设置</td><td>春节</td>",
        html,
    )
    api = app.test_client().get("/api/v1/calendar/2027-02-08", headers=auth.headers("admin"))
    assert api.get_json() == {
        "date": "2027-02-08",
        "is_workday": False,
        "source": "override",
        "name": "春节",
    }
    resp = client.post("/console/admin/calendar/2027-02-08/delete", data={"csrf_token": csrf})
    assert "已删除 2027-02-08 的手工设置" in flashes(text(client.get(resp.location)))
    api = app.test_client().get("/api/v1/calendar/2027-02-08", headers=auth.headers("admin"))
    assert api.get_json()["source"] == "estimated"


def test_calendar_import(app, auth):
    client, csrf = admin_client(app)
    notice = "date,is_workday,name\n2027-10-01,0,国庆节\n2027-10-09,1,国庆节调休\n".encode()
    resp = client.post(
        "/console/admin/calendar/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(notice), "2027.csv")},
        content_type="multipart/form-data",
    )
    html = text(client.get(resp.location))
    assert "已导入放假安排：新增 2 天，更新 0 天" in flashes(html)
    assert "国庆节调休" in html
    body = app.test_client().get("/api/v1/calendar/2027-10-09", headers=auth.headers("admin"))
    assert body.get_json()["is_workday"] is True
    bad = b"date,is_workday,name\n2027-13-01,0,x\n"
    resp = client.post(
        "/console/admin/calendar/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(bad), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert "未导入：1 处错误" in flashes(text(client.get(resp.location)))


# --- audit log -----------------------------------------------------------------------------


def test_audit_log_filters(app):
    client, csrf = admin_client(app)
    client.post(
        "/console/admin/calendar",
        data={"csrf_token": csrf, "date": "2027-03-01", "is_workday": "1"},
    )
    html = text(client.get("/console/admin/audit"))
    assert "calendar.set" in html and "2027-03-01" in html
    html = text(client.get("/console/admin/audit?action=user.create"))
    assert "calendar.set" not in html and "没有符合条件的记录" in html
    html = text(client.get("/console/admin/audit?actor=admin&from=2020-01-01"))
    assert "calendar.set" in html
    html = text(client.get("/console/admin/audit?actor=district"))
    assert "calendar.set" not in html
    html = text(client.get("/console/admin/audit?from=bad"))
    assert "日期格式应为 YYYY-MM-DD：bad" in html


def test_audit_paging(app, monkeypatch):
    from survey_api.console import admin

    monkeypatch.setattr(admin, "PER_PAGE", 2)
    client, csrf = admin_client(app)
    for day in ("2027-03-01", "2027-03-02", "2027-03-03"):
        client.post(
            "/console/admin/calendar", data={"csrf_token": csrf, "date": day, "is_workday": "1"}
        )
    html = text(client.get("/console/admin/audit?action=calendar.set"))
    table = re.search(r'<table class="list" id="audit">.*?</table>', html, re.S)[0]
    assert "2027-03-03" in table and "2027-03-02" in table and "2027-03-01" not in table
    older = unescape(re.search(r'<a href="([^"]+)">更早</a>', html)[1])
    table = re.search(r'<table class="list" id="audit">.*?</table>', text(client.get(older)), re.S)[
        0
    ]
    assert "2027-03-01" in table and "2027-03-03" not in table


def test_password_is_never_in_the_audit_log(app, user_ids):
    client, csrf = admin_client(app)
    client.post(
        f"/console/admin/users/{user_ids['street']}/password",
        data={"csrf_token": csrf, "password": "secret-pass-77"},
    )
    client.post(
        "/console/admin/users",
        data={"csrf_token": csrf, "username": "n2", "role": "admin", "password": "secret-pass-88"},
    )
    conn = connect(app.config["DATABASE"])
    details = " ".join(r[0] for r in conn.execute("SELECT details FROM audit_log"))
    assert "secret-pass" not in details and PASSWORD not in details
