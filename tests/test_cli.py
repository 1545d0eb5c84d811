"""The survey-api command: every command works, fails cleanly and is documented."""

import os
import re
import sqlite3
from pathlib import Path

import pytest

from survey_api.cli import main
from survey_api.db import connect

README = Path(__file__).resolve().parent.parent / "README.md"


def run(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input)


def test_init_db_is_idempotent(runner, app):
    first = run(runner, "init-db")
    second = run(runner, "init-db")
    assert first.exit_code == 0 and second.exit_code == 0
    assert "schema version" in second.output
    conn = connect(app.config["DATABASE"])
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_init_db_creates_fresh_database(tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path / "inst"))
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "inst" / "survey.db").exists()
    assert (tmp_path / "inst" / "secret_key").read_text().strip()
    # The app migrated as it started; init-db says so rather than "nothing to do".
    assert "Migrated" in result.output and "nothing to do" not in result.output
    again = CliRunner().invoke(main, ["init-db"])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_create_user_with_password_stdin(runner, client):
    result = run(
        runner,
        "create-user",
        "li",
        "--role",
        "grid_worker",
        "--unit",
        "370303001001-01",
        "--unit",
        "370303001001-02",
        "--password-stdin",
        input="s3cret-pass\nignored\n",
    )
    assert result.exit_code == 0, result.output
    resp = client.post("/api/v1/auth/login", json={"username": "li", "password": "s3cret-pass"})
    assert resp.status_code == 200
    assert [u["code"] for u in resp.get_json()["user"]["units"]] == [
        "370303001001-01",
        "370303001001-02",
    ]


def test_create_admin_needs_no_unit(runner):
    result = run(
        runner, "create-user", "root2", "--role", "admin", "--password-stdin", input="s3cret-pass\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "secretary", "--unit", "000000000000"],
        ["--role", "secretary"],
        ["--role", "emperor", "--unit", "370303001001"],
        ["--role", "secretary", "--unit", "370303001001-01"],
    ],
)
def test_create_user_bad_unit_or_role_exit_2(runner, args):
    result = run(runner, "create-user", "zhao", *args, "--password-stdin", input="s3cret-pass\n")
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize("username", ["has space", "x" * 151, "semi;colon"])
def test_create_user_bad_username_exit_2(runner, username):
    """The CLI takes the usernames POST /users takes, no others."""
    result = run(
        runner,
        "create-user",
        username,
        "--role",
        "admin",
        "--password-stdin",
        input="s3cret-pass\n",
    )
    assert result.exit_code == 2, result.output


def test_create_user_existing_fails(runner):
    result = run(
        runner, "create-user", "admin", "--role", "admin", "--password-stdin", input="s3cret-pass\n"
    )
    assert result.exit_code == 1 and "exists" in result.output


UNITS_CSV = """\ufeffcode,name,level,parent_code
370303003001-01,新村一网格,grid,370303003001
370303003001,新村社区,community,370303003000
370303003000,和平街道,street,370303
370303001001,杏园社区(改),community,370303001000
"""


def test_import_units_any_order_and_updates(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    result = run(runner, "import-units", str(path))
    assert result.exit_code == 0, result.output
    assert "3 created, 1 updated" in result.output
    conn = connect(app.config["DATABASE"])
    row = conn.execute("SELECT name, path FROM units WHERE code = '370303003001-01'").fetchone()
    assert row["path"] == "/370303/370303003000/370303003001/370303003001-01/"
    assert (
        conn.execute("SELECT name FROM units WHERE code = '370303001001'").fetchone()[0]
        == "杏园社区(改)"
    )
    again = run(runner, "import-units", str(path))
    assert again.exit_code == 0 and "0 created, 4 updated" in again.output


def test_import_units_bad_rows_import_nothing(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,level,parent_code\n"
        "370303004000,好街道,street,370303\n"
        "370303004001,,community,370303004000\n"
        "370303004002,坏社区,city,370303004000\n"
        "370303004003,孤社区,community,999\n",
        encoding="utf-8",
    )
    result = run(runner, "import-units", str(path))
    assert result.exit_code != 0
    for n in (3, 4, 5):
        assert f"row {n}" in result.output
    assert "row 2" not in result.output
    conn = connect(app.config["DATABASE"])
    count = conn.execute("SELECT count(*) FROM units WHERE code LIKE '370303004%'").fetchone()[0]
    assert count == 0


def test_import_units_bad_header(runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name\n1,x\n", encoding="utf-8")
    result = run(runner, "import-units", str(path))
    assert result.exit_code != 0 and "header" in result.output


def test_backup_copies_database_and_blobs(runner, app, tmp_path):
    blob_dir = Path(app.config["BLOB_DIR"]) / "ab"
    blob_dir.mkdir(parents=True)
    (blob_dir / "abcd").write_bytes(b"photo")
    dest = tmp_path / "backup.db"
    result = run(runner, "backup", str(dest))
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(dest)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 9
    assert (tmp_path / "backup.db.blobs" / "ab" / "abcd").read_bytes() == b"photo"


def test_import_units_not_utf8_fails_cleanly(runner, app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(
        "code,name,level,parent_code\n370303004000,好街道,street,370303\n".encode("gbk")
    )
    result = run(runner, "import-units", str(path))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "UTF-8" in result.output


def test_import_units_counts_bad_rows_not_problems(runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name,level,parent_code\nBAD CODE,,city,\n", encoding="utf-8")
    result = run(runner, "import-units", str(path))
    assert result.exit_code == 1 and "1 bad row(s)" in result.output, result.output


def test_import_units_does_not_change_an_existing_units_level(runner, app, tmp_path):
    """Like PATCH /units, an import renames or moves a unit but keeps its level (its grids
    would otherwise hang under a street)."""
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,level,parent_code\n370303001001,杏园社区,street,370303\n", encoding="utf-8"
    )
    result = run(runner, "import-units", str(path))
    assert result.exit_code == 1 and "row 2" in result.output, result.output
    conn = connect(app.config["DATABASE"])
    assert (
        conn.execute("SELECT level FROM units WHERE code = '370303001001'").fetchone()[0]
        == "community"
    )


def test_backup_without_blobs_still_makes_the_blob_folder(runner, app, tmp_path):
    dest = tmp_path / "backup.db"
    result = run(runner, "backup", str(dest))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "backup.db.blobs").is_dir()


def test_backup_to_a_missing_folder_fails_cleanly(runner, tmp_path):
    result = run(runner, "backup", str(tmp_path / "nowhere" / "backup.db"))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.exception
    assert "nowhere" in result.output


def _commands():
    from click import Context

    return sorted(main.list_commands(Context(main)))


def test_every_command_has_help(runner):
    for name in _commands():
        result = run(runner, name, "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.output


def test_every_command_documented_in_readme():
    text = README.read_text(encoding="utf-8")
    missing = [
        name for name in _commands() if not re.search(rf"survey-api {re.escape(name)}\b", text)
    ]
    assert not missing, f"commands missing from README: {missing}"


def test_readme_has_two_quick_start_commands():
    text = README.read_text(encoding="utf-8")
    assert "bash .ci/run" in text or "pytest" in text
    assert "survey-api serve" in text


def test_instance_path_env_is_created(tmp_path, monkeypatch):
    from survey_api import create_app

    target = tmp_path / "new" / "instance"
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(target))
    app = create_app()
    assert app.instance_path == str(target) and target.is_dir()
    assert os.path.exists(target / "survey.db")


def test_every_gunicorn_start_takes_the_request_line_limit(runner, monkeypatch, tmp_path):
    """`serve`, the benchmark's server and the tests' live server build gunicorn's command in
    one place (survey_api.serving), so request lines up to 8,190 bytes reach the app."""
    import subprocess

    import live_server

    from survey_api.bench import server as bench_server

    started = {}

    def fake_exec(path, args, env):
        started["serve"] = args
        raise SystemExit(0)

    class FakePopen:
        def __init__(self, args, **kwargs):
            started.setdefault("popen", []).append(args)
            raise RuntimeError("not started in this test")

    monkeypatch.setattr(os, "execvpe", fake_exec)
    run(runner, "serve", "--port", "5999")
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    bench = bench_server.Gunicorn(str(tmp_path))
    with pytest.raises(RuntimeError):
        bench.start(timeout=1)
    bench._log.close()
    with pytest.raises(RuntimeError):
        live_server.start(tmp_path)
    commands = [started["serve"], *started["popen"]]
    assert len(commands) == 3
    for args in commands:
        i = args.index("--limit-request-line")
        assert args[i + 1] == "8190" and args[-1] == "survey_api.wsgi:app", args
