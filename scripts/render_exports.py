"""Render the exports as a secretary prints them: XLSX → PDF (LibreOffice) → PNG pages.

Builds the demo district in a temporary instance with every community's stories told five
times (about 100 problems per community), exports the problem list, the rectification list,
a grid's visit ledger and the district's summary as XLSX (all time, lang=zh), converts each
to PDF with `soffice --headless --convert-to pdf` and renders its pages with
`pdftoppm -png -r 60`. Prints the page count of each PDF; with --docs copies the first page
of each list (and the problem list's second page, to show the repeated title and header)
to docs/img/.

    python scripts/render_exports.py [--out DIR] [--docs]

Needs LibreOffice Calc (libreoffice-calc-nogui), poppler-utils and fonts-noto-cjk.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from survey_api import create_app, demo  # noqa: E402

STORY_ROUNDS = 5
EXPORTS = [
    # (file stem, URL)
    ("problem-list", "/api/v1/communities/370303001001/problem-list"),
    ("rectification-list", "/api/v1/communities/370303001001/rectification-list"),
    ("visit-ledger", "/api/v1/grids/370303001001-01/visit-ledger"),
    ("summary", "/api/v1/units/370303/summary"),
]
DOC_PAGES = {
    "problem-list": (1, 2),
    "rectification-list": (1,),
    "visit-ledger": (1,),
    "summary": (1,),
}


class _BusyDemo(demo._Demo):
    """The demo with each community's stories told STORY_ROUNDS times."""

    def problems(self):
        for _ in range(STORY_ROUNDS):
            super().problems()


def build(instance):
    os.environ["SURVEY_API_INSTANCE_PATH"] = str(instance)
    app = create_app({"SECRET_KEY": "render-exports-secret-key-0123456789"})
    original = demo._Demo
    demo._Demo = _BusyDemo
    try:
        logins = demo.seed_demo(app)
    finally:
        demo._Demo = original
    return app, {u["username"]: u["password"] for u in logins}


def export_all(app, passwords, out):
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "district", "password": passwords["district"]}
    ).get_json()["access_token"]
    files = []
    for stem, url in EXPORTS:
        resp = client.get(
            url, query_string={"format": "xlsx"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        path = out / f"{stem}.xlsx"
        path.write_bytes(resp.get_data())
        files.append(path)
    return files


def to_pdf(xlsx, out):
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                str(xlsx),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out / (xlsx.stem + ".pdf")


def to_png(pdf, out):
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(out / pdf.stem)], check=True, timeout=300
    )
    return sorted(out.glob(pdf.stem + "-*.png"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        help="folder for the XLSX, PDF and PNG files (default: a temporary folder, printed)",
    )
    parser.add_argument(
        "--docs", action="store_true", help="copy the pages shown in docs/lists.md to docs/img/"
    )
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="render-exports-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="render-instance-") as instance:
        app, passwords = build(Path(instance))
        files = export_all(app, passwords, out)
    for xlsx in files:
        pdf = to_pdf(xlsx, out)
        pages = to_png(pdf, out)
        print(f"{xlsx.name}: {len(pages)} page(s) → {pdf}")
        if args.docs:
            target = REPO / "docs" / "img"
            target.mkdir(parents=True, exist_ok=True)
            for number in DOC_PAGES[xlsx.stem]:
                if number <= len(pages):
                    shutil.copy(pages[number - 1], target / f"{xlsx.stem}-page{number}.png")
    print(f"files in {out}")


if __name__ == "__main__":
    main()
