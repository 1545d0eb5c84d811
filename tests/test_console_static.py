"""The console's vendored files match their recorded sha256, and the pages need nothing else."""

import hashlib
import re
from pathlib import Path

import survey_api.console

STATIC = Path(survey_api.console.__file__).parent / "static"
TEMPLATES = Path(survey_api.console.__file__).parent / "templates"


def _vendor_lines():
    for line in (STATIC / "VENDOR").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version, source, _arrow, target, sha = line.split()
            yield name, version, source, target, sha


def test_every_vendored_file_matches_its_sha256():
    lines = list(_vendor_lines())
    assert any(name == "htmx.org" and version.startswith("2.") for name, version, *_ in lines)
    for _name, _version, _source, target, sha in lines:
        assert hashlib.sha256((STATIC / target).read_bytes()).hexdigest() == sha, target


def test_every_static_file_is_ours_or_vendored():
    vendored = {target for *_, target, _sha in _vendor_lines()}
    ours = {"console.css", "console.js", "favicon.svg", "VENDOR", "charts.js", "reports.css"}
    assert {p.name for p in STATIC.iterdir()} == vendored | ours


def test_templates_load_nothing_from_elsewhere():
    for path in TEMPLATES.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", html), path
        assert "<style" not in html and " style=" not in html and "onclick" not in html, path


def test_static_files_served_with_headers(client):
    resp = client.get("/console/static/htmx.min.js")
    assert resp.status_code == 200 and resp.mimetype in (
        "text/javascript",
        "application/javascript",
    )
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp.close()
