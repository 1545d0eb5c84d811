"""The console in a real browser: Debian's Chromium driven by Playwright for Python, against a
real gunicorn (DESIGN §10). Never `playwright install`: executable_path is /usr/bin/chromium.

The browser tests run one at a time (a file lock, whatever pytest-xdist does): two Chromiums
on a 2-core machine make both slow and flaky.
"""

import fcntl
import importlib.metadata
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest
import requests
from conftest import PASSWORD, seed_tree
from lifecycle_helpers import make_problem
from live_server import running
from playwright.sync_api import expect, sync_playwright

from survey_api.db import connect
from survey_api.migrations import migrate
from survey_api.storage import problems as problem_store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import console_screenshots as shots  # noqa: E402

pytestmark = pytest.mark.slow
LOCK = os.path.join(tempfile.gettempdir(), "survey-api-browser-tests.lock")
OTHER_GRID = "370303001002-01"


def versions():
    """Playwright's and Chromium's versions: Playwright pins a revision, Debian's moves."""
    chromium = subprocess.run(
        [shots.CHROMIUM, "--version"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    return f"playwright {importlib.metadata.version('playwright')}; {chromium}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated, seeded instance served by gunicorn: (root URL, database path, ids)."""
    folder = tmp_path_factory.mktemp("console_browser")
    db_path = str(folder / "survey.db")
    conn = connect(db_path)
    migrate(conn)
    conn.close()
    seed_tree(db_path)
    conn = connect(db_path)
    ids = {
        "work": make_problem(conn, description="3号楼楼道飞线充电"),
        "g2": make_problem(conn, grid="370303001001-02"),
        "closed": make_problem(conn, "closed"),
        "other": make_problem(conn, grid=OTHER_GRID),
        "csrf": make_problem(conn),
    }
    conn.close()
    with running(folder, workers=2) as base:
        yield base, db_path, ids


@pytest.fixture
def page(site):
    """A fresh Chromium page, one browser test at a time on this machine."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with sync_playwright() as p:
            browser = shots.launch(p)
            print(f"\n{versions()}; browser.version {browser.version}")
            context = browser.new_context(
                locale="zh-CN", viewport=shots.VIEWPORT, accept_downloads=True
            )
            page = context.new_page()
            page.console_errors = []
            page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
            yield page
            context.close()
            browser.close()


def status(db_path, pid):
    conn = connect(db_path)
    try:
        return problem_store.get_row(conn, pid)
    finally:
        conn.close()


def test_versions_are_logged():
    line = versions()
    print(line)
    assert re.search(r"playwright 1\.\d+\.\d+; Chromium \d+\.", line), line


def test_work_a_problem_from_reported_to_closed_by_clicking(site, page, tmp_path):
    root, db_path, ids = site
    shots.log_in(page, root, "secretary", PASSWORD)
    expect(page.get_by_role("heading", name="问题清单")).to_be_visible()
    page.get_by_role("link", name=re.compile("^待受理")).click()
    number = status(db_path, ids["work"])["number"]
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=number)).to_be_visible()

    def do(button, fields=None, expect_status=None):
        page.get_by_role("link", name=button, exact=True).click()
        form = page.locator("form.action-form")
        expect(form.get_by_role("heading", name=button)).to_be_visible()
        for label, value in (fields or {}).items():
            form.get_by_label(label).fill(value)
        form.get_by_role("button", name="确定").click()
        expect(page.locator(".flash")).to_contain_text(f"操作成功：{button}")
        expect(page.locator(".problem-head .status")).to_have_text(expect_status)

    do("受理", {"备注": "已核实"}, "已受理")
    do("交办", {"责任人": "王师傅"}, "已交办")
    do("开始整改", None, "整改中")
    do("整改完成", {"整改措施": "拆除飞线，安装充电桩", "街道补贴": "120"}, "待核验")
    do("核验通过", {"备注": "现场核验合格"}, "已销号")
    row = status(db_path, ids["work"])
    assert row["status"] == "closed" and row["cost_share_subsidy"] == 120
    events = page.locator("ol.events li")
    expect(events).to_have_count(6)
    expect(events.last).to_contain_text("核验通过")
    assert page.console_errors == []
    queue, problem = shots.shoot(page, root, str(tmp_path), f"/console/problems/{ids['work']}")
    assert Path(queue).stat().st_size > 10_000 and Path(problem).stat().st_size > 10_000


def test_filter_with_htmx_and_export_the_filtered_list(site, page, tmp_path):
    root, db_path, ids = site
    shots.log_in(page, root, "secretary", PASSWORD)
    page.get_by_label("网格").select_option("370303001001-02")  # htmx: change → results
    expect(page.locator(".toolbar")).to_contain_text("共 1 条")
    assert "grid=370303001001-02" in page.url  # the filter state is in the URL
    page.get_by_label("关键词").fill(status(db_path, ids["g2"])["number"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    with page.expect_download() as info:
        page.get_by_role("link", name="导出问题清单").click()
    path = tmp_path / "list.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    numbers = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]]
    assert numbers == [status(db_path, ids["g2"])["number"]]
    assert page.console_errors == []


def test_problem_of_another_community_is_a_404_page(site, page):
    root, db_path, ids = site
    shots.log_in(page, root, "secretary", PASSWORD)
    resp = page.goto(f"{root}/console/problems/{ids['other']}")
    assert resp.status == 404
    expect(page.get_by_role("heading")).to_contain_text("不在您的管辖范围内")
    assert status(db_path, ids["other"])["number"] not in page.content()


def test_a_request_without_csrf_is_403_and_changes_nothing(site, page):
    root, db_path, ids = site
    shots.log_in(page, root, "secretary", PASSWORD)
    page.goto(f"{root}/console/problems/{ids['csrf']}?action=accept")
    # Strip the hidden token from the form (as a forged cross-site form would lack it).
    page.locator("form.action-form input[name=csrf_token]").evaluate("e => e.remove()")
    page.locator("form.action-form").get_by_role("button", name="确定").click()
    expect(page.get_by_role("heading")).to_contain_text("CSRF")
    row = status(db_path, ids["csrf"])
    assert row["status"] == "reported" and row["version"] == 1
    # The session's cookies alone (no token) are refused too.
    resp = page.request.post(
        f"{root}/console/problems/{ids['csrf']}/actions",
        form={"button": "accept", "base_version": "1"},
    )
    assert resp.status == 403
    assert status(db_path, ids["csrf"])["version"] == 1


def test_logout_then_back_button_needs_login(site, page):
    root, _db, _ids = site
    shots.log_in(page, root, "secretary", PASSWORD)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{root}/console/login")
    page.goto(f"{root}/console/problems?queue=overdue")
    assert "/console/login?next=" in page.url
    page.get_by_label("用户名").fill("secretary")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{root}/console/problems?queue=overdue")
    expect(page.locator(".queues a[aria-current=page]")).to_contain_text("已超期")


def test_grid_worker_is_refused_in_the_browser(site, page):
    root, _db, _ids = site
    page.goto(f"{root}/console/login")
    page.get_by_label("用户名").fill("worker")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("网格员请使用手机端")
    assert (
        requests.get(f"{root}/console/problems", allow_redirects=False, timeout=30).status_code
        == 302
    )
