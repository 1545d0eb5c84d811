"""Fixtures: a real SQLite file per test, a client, a CLI runner, and a small unit tree.

No test writes into the checkout: an app made without an instance folder of its own gets a
throwaway one, Hypothesis keeps its files in a temporary folder, and the session fails when
the checkout gained files (test_checkout_stays_clean.py explains the check).
"""

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from survey_api import create_app
from survey_api.db import connect, write_tx
from survey_api.passwords import hash_password
from survey_api.storage import units as unit_store
from survey_api.storage import users as user_store

_SCRATCH = tempfile.mkdtemp(prefix="survey-api-tests-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ.setdefault("SURVEY_API_INSTANCE_PATH", os.path.join(_SCRATCH, "instance"))
set_hypothesis_home_dir(os.path.join(_SCRATCH, "hypothesis"))

PASSWORD = "correct-horse-9"

# district 370303 > street 370303001000 > communities ...001001 / ...001002 > grids
UNITS = [
    ("370303", "张店区", "district", None),
    ("370303001000", "车站街道", "street", "370303"),
    ("370303002000", "公园街道", "street", "370303"),
    ("370303001001", "杏园社区", "community", "370303001000"),
    ("370303001002", "华光社区", "community", "370303001000"),
    ("370303002001", "世纪社区", "community", "370303002000"),
    ("370303001001-01", "杏园一网格", "grid", "370303001001"),
    ("370303001001-02", "杏园二网格", "grid", "370303001001"),
    ("370303001002-01", "华光一网格", "grid", "370303001002"),
    ("370303002001-01", "世纪一网格", "grid", "370303002001"),
]

# username → (role, units)
USERS = {
    "admin": ("admin", []),
    "district": ("district_admin", ["370303"]),
    "street": ("street_admin", ["370303001000"]),
    "street2": ("street_admin", ["370303002000"]),
    "secretary": ("secretary", ["370303001001"]),
    "secretary2": ("secretary", ["370303001002"]),
    "worker": ("grid_worker", ["370303001001-01"]),
    "worker2": ("grid_worker", ["370303001001-02"]),
    "worker3": ("grid_worker", ["370303001002-01"]),
}


# Password hashing dominates test time; hash once per session.
_HASH = hash_password(PASSWORD)


def seed_tree(db_path):
    """Units and one user per role (ids are the usernames' stable uuids)."""
    conn = connect(db_path)
    ids = {}
    with write_tx(conn):
        for code, name, level, parent in UNITS:
            unit_store.upsert(conn, code, name, level, parent)
        for username, (role, units) in USERS.items():
            user = user_store.create(
                conn,
                username=username,
                password_hash=_HASH,
                role=role,
                unit_codes=units,
                display_name=username.title(),
            )
            ids[username] = user["id"]
    conn.close()
    return ids


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "DATABASE": str(tmp_path / "survey.db"),
            "BLOB_DIR": str(tmp_path / "blobs"),
        }
    )
    app.config["USER_IDS"] = seed_tree(app.config["DATABASE"])
    yield app


@pytest.fixture
def live_instance(tmp_path):
    """An instance folder with a migrated, seeded database, for real gunicorn servers."""
    from survey_api.migrations import migrate

    path = tmp_path / "instance"
    path.mkdir()
    conn = connect(str(path / "survey.db"))
    migrate(conn)
    conn.close()
    seed_tree(str(path / "survey.db"))
    return path


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Logs users in once per test and builds Authorization headers."""

    def __init__(self, client):
        self.client = client
        self._tokens = {}

    def login(self, username, password=PASSWORD, **extra):
        return self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password, **extra}
        )

    def tokens(self, username):
        if username not in self._tokens:
            resp = self.login(username)
            assert resp.status_code == 200, resp.get_json()
            self._tokens[username] = resp.get_json()
        return self._tokens[username]

    def headers(self, username, **extra):
        return {"Authorization": f"Bearer {self.tokens(username)['access_token']}", **extra}


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def user_ids(app):
    return app.config["USER_IDS"]


def assert_problem(resp, status, code):
    """The response is an RFC 9457 problem with this status and code."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/problem+json", resp.mimetype
    body = resp.get_json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] and body["title"] and body["detail"]
    return body


def pytest_report_header(config):
    """The browser tests' Playwright and Chromium versions, in every run's header (Playwright
    pins a Chromium revision; Debian's moves with security updates)."""
    import importlib.metadata
    import subprocess

    try:
        chromium = (
            subprocess.run(
                ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=60
            ).stdout.strip()
            or "chromium: no version"
        )
    except (OSError, subprocess.SubprocessError) as e:
        chromium = f"chromium: {e}"
    return [
        f"console browser tests: playwright {importlib.metadata.version('playwright')}, {chromium}"
    ]


os.environ.setdefault("SURVEY_API_TEST", "1")


# --- the checkout stays as the tests found it ------------------------------------------------

CHECKOUT = Path(__file__).resolve().parent.parent
# Written by the tools that run the tests, not by the tests: the venv, bytecode, ruff's cache.
_NOT_TESTS = (":!.venv", ":!**/__pycache__/**", ":!.ruff_cache", ":!*.egg-info")


def checkout_files():
    """Every file git sees in the checkout that is not committed as it is (ignored ones too),
    or None outside a git checkout."""
    try:
        out = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--ignored",
                "--untracked-files=all",
                "--",
                ".",
                *_NOT_TESTS,
            ],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, not an xdist worker
        session.config.stash[_BEFORE] = checkout_files()


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_BEFORE, None)
    after = checkout_files() if before is not None else None
    gained = sorted(after - before) if after is not None else []
    if gained:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("FAILED: the tests wrote into the checkout:", red=True)
            for line in gained:
                reporter.write_line(f"  {line}", red=True)


_BEFORE = pytest.StashKey()
