"""Several gunicorn workers, many clients writing at once: no lock errors, nothing lost."""

import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import PASSWORD
from live_server import running

pytestmark = pytest.mark.slow


@pytest.fixture
def instance(live_instance):
    return live_instance


def test_parallel_writes_across_workers(instance):
    with running(instance, workers=3) as base:
        token = requests.post(
            base + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def create_grid(i):
            r = requests.post(
                base + "/api/v1/units",
                headers=headers,
                json={
                    "code": f"370303001001-{100 + i}",
                    "name": f"网格{i}",
                    "level": "grid",
                    "parent_code": "370303001001",
                },
                timeout=30,
            )
            return r.status_code

        def rename(i):
            r = requests.patch(
                base + "/api/v1/units/370303001001",
                headers=headers,
                json={"name": f"杏园社区{i}"},
                timeout=30,
            )
            return r.status_code

        with ThreadPoolExecutor(8) as pool:
            created = list(pool.map(create_grid, range(60)))
            renamed = list(pool.map(rename, range(40)))
        assert created == [201] * 60
        assert renamed == [200] * 40
        grids = requests.get(
            base + "/api/v1/units?level=grid&parent=370303001001&limit=1000", headers=headers
        ).json()["items"]
        assert len(grids) == 62
    conn = sqlite3.connect(instance / "survey.db")
    assert (
        conn.execute("SELECT count(*) FROM audit_log WHERE action LIKE 'unit.%'").fetchone()[0]
        == 100
    )
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_serve_command_starts_and_stops(tmp_path):
    """`survey-api serve` migrates a new instance folder, answers, and exits on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from live_server import free_port, server_env

    exe = shutil.which("survey-api", path=os.path.dirname(sys.executable))
    assert exe, "the survey-api console script is installed next to the interpreter"
    port = free_port()
    inst = tmp_path / "fresh"
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--workers", "2"],
        env=server_env(inst),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
                break
            except requests.RequestException:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert r.status_code == 200
        assert (inst / "survey.db").exists()
        started = time.time()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.time() - started < 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
