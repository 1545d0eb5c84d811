"""Screenshots of the office console for docs/console.md: the problem queue and a problem page.

    .venv/bin/python scripts/console_screenshots.py [--out docs/img]

Seeds the demo district into a temporary instance folder, serves it with gunicorn on
127.0.0.1, logs in as the demo secretary in Debian's Chromium (Playwright, never
`playwright install`) at an office PC's 1366 px width, and writes console-queue.png and
console-problem.png. The browser tests call shoot() with their own server and folder.
"""

import argparse
import os
import sys
import tempfile

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
DEMO_SECRETARY = ("secretary", "zd-sec-2026")


def launch(playwright):
    """Debian's Chromium with the flags that keep it off the network."""
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                      "img"))
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
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
