"""统计, 走访台账 and 管理 in a real Chromium (Debian's, driven by Playwright) against a real
gunicorn: the figures equal the API's summary, the drill-down, the ledger filter, and an admin
creating a user who then logs in."""

import fcntl
import re
import sys
from pathlib import Path

import pytest
import requests
from conftest import PASSWORD
from list_data import PERIOD, build
from live_server import running
from playwright.sync_api import sync_playwright
from test_console_browser import LOCK, versions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import console_screenshots as shots  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A seeded instance with the November community data (tests/list_data.py), served by
    gunicorn: (root URL, ids)."""
    from conftest import seed_tree

    from survey_api.db import connect
    from survey_api.migrations import migrate

    folder = tmp_path_factory.mktemp("console_reports")
    db = str(folder / "survey.db")
    conn = connect(db)
    migrate(conn)
    conn.close()
    ids = build(db, seed_tree(db)["worker"])
    with running(folder, workers=2) as base:
        yield base, ids


@pytest.fixture
def browser():
    """Debian's Chromium (shots.launch), one browser test at a time on this machine."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with sync_playwright() as p:
            b = shots.launch(p)
            print(f"\n{versions()}; browser.version {b.version}")
            yield b
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport=shots.VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    # a resource a page needs that fails (documents are the tests' business)
    pg.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    yield pg
    context.close()
    assert not errors, errors


def login(page, base, username, password=PASSWORD):
    shots.log_in(page, base, username, password)


def api_summary(base, username, code, params):
    token = requests.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    resp = requests.get(
        f"{base}/api/v1/units/{code}/summary",
        params=params,
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200
    return resp.json()


def shown_figures(page):
    return {
        el.get_attribute("data-key"): el.inner_text().strip()
        for el in page.locator("dl.figures dd").all()
    }


def as_text(value, key):
    return f"{value:.1f}%" if key.endswith("_pct") else f"{value:,}"


def test_dashboard_figures_equal_the_api_and_charts_draw(site, page):
    base, _ids = site
    login(page, base, "district")
    page.goto(f"{base}/console/units/370303?from={PERIOD['from']}&to={PERIOD['to']}")
    assert page.locator("h1").inner_text() == "张店区统计"
    api = api_summary(base, "district", "370303", PERIOD)
    assert shown_figures(page) == {
        k: as_text(api["totals"][k], k)
        for k in (
            "households",
            "visited",
            "coverage_pct",
            "problems",
            "rectification_rate_pct",
            "on_time_rate_pct",
            "overdue",
            "satisfaction_rate_pct",
        )
    }
    page.wait_for_selector("[data-charts-ready]", timeout=15_000)
    for chart in ("chart-children", "chart-categories", "chart-weeks"):
        assert page.locator(f"#{chart} canvas").count() >= 1, chart
        box = page.locator(f"#{chart}").bounding_box()
        assert box["width"] > 300 and box["height"] > 200, chart
    # 本月 etc. are links that keep the unit
    page.get_by_role("link", name="全部", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith("/console/units/370303?period=all")
    api = api_summary(base, "district", "370303", {})
    assert shown_figures(page)["problems"] == str(api["totals"]["problems"])


def test_drill_down_to_a_grid_and_its_ledger(site, page):
    base, _ids = site
    login(page, base, "district")
    page.goto(f"{base}/console/units")
    assert page.locator("h1").inner_text() == "张店区统计"
    for name in ("车站街道", "杏园社区", "杏园一网格"):
        page.locator("#children").get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == f"{name}统计"
    assert page.locator("#children").count() == 0  # a grid has no children
    page.get_by_role("link", name="查看本网格走访台账").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "走访台账"
    assert "杏园一网格" in page.locator("main").inner_text()
    # and on to one problem of a household
    page.locator("#ledger a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("住户")
    page.locator("#problems a").first.click()
    page.wait_for_load_state()
    assert re.fullmatch(r"370303001001-2026-\d{4}", page.locator("h1").inner_text())


def test_ledger_filter(site, page):
    base, ids = site
    login(page, base, "secretary")
    page.goto(f"{base}/console/ledger?from={PERIOD['from']}&to={PERIOD['to']}")
    rows = page.locator("#ledger tbody tr")
    assert rows.count() == 2
    assert page.locator("#n-unvisited").inner_text() == "1"
    page.get_by_label("仅看未走访").check()
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "unvisited=1" in page.url
    assert rows.count() == 1
    assert ids["h2"] in rows.first.locator("a").get_attribute("href")
    assert page.get_by_label("仅看未走访").is_checked()
    page.get_by_label("网格").select_option("370303001001-02")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "370303001001-02" in page.url and "杏园二网格" in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出走访台账").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_admin_creates_a_user_who_then_logs_in(site, page, browser):
    base, _ids = site
    login(page, base, "admin")
    page.get_by_role("link", name="管理").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "用户管理"
    form = page.locator("form", has=page.get_by_role("button", name="创建"))
    form.get_by_label("用户名").fill("liu.shuji")
    form.get_by_label("姓名").fill("刘书记")
    form.get_by_label("角色").select_option("secretary")
    form.get_by_label("所属单位编码").fill("370303001002")
    form.get_by_label("初始密码").fill("liu-password-2026")
    form.get_by_role("button", name="创建").click()
    page.wait_for_load_state()
    assert "已创建用户 liu.shuji（社区书记）" in page.locator(".flashes").inner_text()
    assert page.locator("#user-liu\\.shuji").count() == 1
    other = browser.new_context(locale="zh-CN", viewport=shots.VIEWPORT).new_page()
    login(other, base, "liu.shuji", "liu-password-2026")
    assert "/console/login" not in other.url
    other.goto(f"{base}/console/units")
    assert other.locator("h1").inner_text() == "华光社区统计"
    other.context.close()
