"""Screenshots of the office console for docs/console.md: the problem queue, a problem page,
the district's 统计, a 走访台账, a household and the admin's 用户管理.

    .venv/bin/python scripts/console_screenshots.py [--out docs/img]

Seeds the demo district into a temporary instance folder, serves it with gunicorn on
127.0.0.1, logs in as the demo secretary in Debian's Chromium (Playwright, never
`playwright install`) at an office PC's 1366 px width, and writes console-queue.png and
console-problem.png; then as the demo district officer console-dashboard.png,
console-ledger.png and console-household.png, and as the demo admin console-admin-users.png.
The browser tests call shoot() with their own server and folder.
"""

import argparse
import os
import sys
import tempfile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
DEMO_SECRETARY = ("secretary", "zd-sec-2026")
DEMO_DISTRICT = ("district", "zd-district-26")
DEMO_ADMIN = ("admin", "zd-admin-2026")


def launch(playwright):
    """Debian's Chromium with the flags that keep it off the network. (Headless Chromium draws
    date inputs as mm/dd/yyyy whatever the locale; a Chinese desktop shows 年/月/日.)"""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in(page, root, username, password):
    page.goto(f"{root}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{root}/console/problems*")


def shoot(page, root, out_dir, problem_path=None):
    """Write console-queue.png and console-problem.png (a logged-in page); returns the paths.

    problem_path: the problem page to show; by default the first of the 待核验 queue, else of
    the whole queue.
    """
    os.makedirs(out_dir, exist_ok=True)
    queue_png = os.path.join(out_dir, "console-queue.png")
    problem_png = os.path.join(out_dir, "console-problem.png")
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{root}/console/problems")
    page.screenshot(path=queue_png)
    if problem_path is None:
        for queue in ("rectified", "all"):
            page.goto(f"{root}/console/problems?queue={queue}")
            links = page.locator("table.list tbody a")
            if links.count():
                problem_path = links.first.get_attribute("href")
                break
    page.goto(f"{root}{problem_path}")
    page.screenshot(path=problem_png, full_page=True)
    return queue_png, problem_png


def shoot_reports(page, root, out_dir, district="370303", grid="370303001001-01"):
    """Write console-dashboard.png (the district's 统计, charts drawn), console-ledger.png and
    console-household.png (its first household) as the logged-in officer; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [
        os.path.join(out_dir, f"console-{name}.png")
        for name in ("dashboard", "ledger", "household")
    ]
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{root}/console/units/{district}")
    page.wait_for_selector("[data-charts-ready]", timeout=30_000)
    page.wait_for_timeout(1000)  # the charts' entry animation
    page.screenshot(path=paths[0], full_page=True)
    page.goto(f"{root}/console/ledger?grid={grid}&period=year")
    page.screenshot(path=paths[1], full_page=True)
    page.goto(root + page.locator("#ledger a").first.get_attribute("href"))
    page.screenshot(path=paths[2], full_page=True)
    return paths


def shoot_admin(page, root, out_dir):
    """Write console-admin-users.png as the logged-in admin; returns its path."""
    path = os.path.join(out_dir, "console-admin-users.png")
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{root}/console/admin/users")
    page.screenshot(path=path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "img")
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from survey_api import create_app
    from survey_api.bench.server import Gunicorn
    from survey_api.demo import seed_demo

    with tempfile.TemporaryDirectory(prefix="survey-console-shots-") as folder:
        os.environ["SURVEY_API_INSTANCE_PATH"] = folder
        os.environ["SURVEY_API_SECRET_KEY"] = "bench-secret-key-" + "x" * 32
        seed_demo(create_app())
        with Gunicorn(folder, workers=1) as server, sync_playwright() as p:
            root = server.base.removesuffix("/api/v1")
            browser = launch(p)
            page = browser.new_page(locale="zh-CN", viewport=VIEWPORT)
            log_in(page, root, *DEMO_SECRETARY)
            for path in shoot(page, root, os.path.abspath(args.out)):
                print(path)
            page.context.close()
            page = browser.new_page(locale="zh-CN", viewport=VIEWPORT)
            log_in(page, root, *DEMO_DISTRICT)
            for path in shoot_reports(page, root, os.path.abspath(args.out)):
                print(path)
            page.context.close()
            page = browser.new_page(locale="zh-CN", viewport=VIEWPORT)
            log_in(page, root, *DEMO_ADMIN)
            print(shoot_admin(page, root, os.path.abspath(args.out)))
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
