"""survey-api soak (DESIGN §12): a short real run, and the checks that make its figures."""

import json
import os
import random
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from survey_api import create_app, soak
from survey_api.cli import main
from survey_api.soak import district, ledger
from survey_api.soak.client import batch
from survey_api.soak.server import SoakServer, Zygote


def test_short_soak_run_passes_and_writes_json(tmp_path):
    out = tmp_path / "soak.json"
    env = dict(os.environ, SURVEY_API_INSTANCE_PATH=str(tmp_path / "unused"))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from survey_api.cli import main; main()",
            "soak",
            "--cycles",
            "4",
            "--minutes",
            "0.25",
            "--seed",
            "7",
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "PASS" in done.stdout and "lost" in done.stdout
    result = json.loads(out.read_text())
    assert result["failures"] == 0
    assert result["kill_cycles"]["cycles"] == 4
    assert result["kill_cycles"]["items_acked"] > 0
    assert result["concurrency"]["requests"] > 0 and result["concurrency"]["exports"] > 0
    assert result["backup"]["backup_failures"] == 0
    for part, keys in soak.FAILURES.items():
        for key in keys:
            assert result[part][key] == 0, (part, key)
    assert result["machine"]["nproc"] >= 1


@pytest.fixture
def pushed(tmp_path):
    """The soak's instance with one acknowledged push of phone1, and the ledger of it."""
    folder = tmp_path / "instance"
    db_path = district.create(str(folder))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 40,
            "DATABASE": db_path,
            "BLOB_DIR": str(folder / "blobs"),
        }
    )
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "phone1", "password": district.PASSWORD}
    ).get_json()["access_token"]
    body = batch("phone", district.GRIDS[0], [], 5, random.Random(1))
    resp = client.post(
        "/api/v1/sync/push",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "soak-test-key-1"},
    )
    assert resp.status_code == 200
    book = ledger.Ledger()
    book.record(body, resp.get_json())
    return db_path, book, body


def test_checks_pass_on_a_clean_push(pushed):
    db_path, book, body = pushed
    assert book.count() == len(body["items"]) == 11
    assert ledger.check(db_path, book.snapshot()) == {
        "lost": 0,
        "duplicated": 0,
        "stuck_keys": 0,
        "duplicated_by_kind": {
            "change_rows": 0,
            "report_events": 0,
            "pushes_applied_twice": 0,
            "numbers_taken_twice": 0,
        },
    }


def test_a_missing_acknowledged_record_counts_as_lost(pushed):
    db_path, book, body = pushed
    problem = next(i["id"] for i in body["items"] if i["entity"] == "problem")
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM problem_events WHERE problem_id = ?", (problem,))
        conn.execute("DELETE FROM problems WHERE id = ?", (problem,))
    assert ledger.check(db_path, book.snapshot())["lost"] == 1


@pytest.mark.parametrize(
    "sql, kind",
    [
        (
            "INSERT INTO changes (entity, record_id, grid_code) SELECT 'household', id, grid_code "
            "FROM households",
            "change_rows",
        ),
        (
            "INSERT INTO problem_events (id, problem_id, action, to_status, at) "
            "SELECT id || '-again', problem_id, action, to_status, at FROM problem_events",
            "report_events",
        ),
        (
            "INSERT INTO audit_log (actor, action, target, at) SELECT actor, action, target, at "
            "FROM audit_log WHERE action = 'sync.push'",
            "pushes_applied_twice",
        ),
        ("UPDATE problem_counters SET last = last + 1", "numbers_taken_twice"),
    ],
)
def test_a_record_stored_twice_counts_as_duplicated(pushed, sql, kind):
    db_path, book, _ = pushed
    with sqlite3.connect(db_path) as conn:
        conn.execute(sql)
    found = ledger.check(db_path, book.snapshot())
    assert found["duplicated"] >= 1 and found["duplicated_by_kind"][kind] >= 1
    assert found["lost"] == 0


def test_a_broken_database_fails_integrity_check(pushed):
    db_path, _, _ = pushed
    assert ledger.integrity_ok(db_path) == (True, ["ok"])
    pages = lambda conn, name: conn.execute(  # noqa: E731
        "SELECT rootpage FROM sqlite_schema WHERE name = ?", (name,)
    ).fetchone()[0]
    with sqlite3.connect(db_path) as conn:  # swap the pages of two indexes of households
        first, second = pages(conn, "households_grid"), pages(conn, "households_match")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_schema SET rootpage = ? WHERE name = 'households_grid'", (second,)
        )
        conn.execute(
            "UPDATE sqlite_schema SET rootpage = ? WHERE name = 'households_match'", (first,)
        )
    ok, detail = ledger.integrity_ok(db_path)
    assert not ok and detail != ["ok"]


def test_any_failure_count_makes_the_exit_status_1(monkeypatch, tmp_path):
    result = {
        "started_at": "2026-11-30T00:00:00+00:00",
        "seed": 1,
        "elapsed_s": 1.0,
        "restarts": "x",
        "machine": {"nproc": 2, "cpu": "cpu", "load_avg": [1.0], "load_avg_end": [1.0]},
        "backup": {key: 0 for key in soak.FAILURES["backup"]},
    }
    result["failures"] = soak.failures(result)
    monkeypatch.setattr(soak, "run", lambda *a, **k: result)
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path / "instance"))
    ok = CliRunner().invoke(main, ["soak", "--json", str(tmp_path / "r.json")])
    assert ok.exit_code == 0, ok.output
    assert "PASS" in ok.output
    result["backup"]["missing"] = 2
    result["failures"] = soak.failures(result)
    failed = CliRunner().invoke(main, ["soak"])
    assert failed.exit_code == 1
    assert "FAIL" in failed.output and json.loads((tmp_path / "r.json").read_text())


def test_kill_takes_the_master_and_every_worker(tmp_path):
    folder = str(tmp_path / "instance")
    district.create(folder)
    zygote = Zygote(str(tmp_path))
    try:
        server = SoakServer(folder, workers=2, zygote=zygote).start()
        workers = server.worker_pids()
        assert len(workers) == 2
        master = server.proc.pid
        server.kill()
        for pid in (master, *workers):
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        server.restart()  # and it comes back, answering
        assert server.worker_pids()
        server.stop()
    finally:
        zygote.close()


def test_kill_cycles_start_a_fresh_database_each_epoch(tmp_path, monkeypatch):
    from survey_api.soak import kill_cycles

    monkeypatch.setattr(kill_cycles, "EPOCH_CYCLES", 2)
    zygote = Zygote(str(tmp_path))
    try:
        stats = kill_cycles.run(
            str(tmp_path / "kill"), 3, random.Random(3), zygote, lambda message: None
        )
    finally:
        zygote.close()
    assert stats["cycles"] == 3 and stats["epochs"] == 2
    assert sorted(os.listdir(tmp_path / "kill")) == ["epoch-1", "epoch-2"]
    assert stats["items_acked"] > 0
    assert all(stats[key] == 0 for key in soak.FAILURES["kill_cycles"]), stats
