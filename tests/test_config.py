"""Configuration: defaults, instance/config.py, SURVEY_API_* environment, generated secret."""

from survey_api import create_app


def test_env_overrides_instance_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("LOGIN_MAX_FAILURES = 3\nACCESS_TOKEN_SECONDS = 60\n")
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_API_ACCESS_TOKEN_SECONDS", "120")
    monkeypatch.setenv("SURVEY_API_DATABASE", str(tmp_path / "elsewhere.db"))
    app = create_app()
    assert app.config["LOGIN_MAX_FAILURES"] == 3
    assert app.config["ACCESS_TOKEN_SECONDS"] == 120
    assert app.config["DATABASE"] == str(tmp_path / "elsewhere.db")
    assert (tmp_path / "elsewhere.db").exists()


def test_token_and_login_limit_settings_are_configurable(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("REFRESH_REUSE_SECONDS = 5\n")
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_API_LOGIN_MAX_FAILURES_PER_ADDRESS", "250")
    app = create_app()
    assert app.config["REFRESH_REUSE_SECONDS"] == 5
    assert app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 250
    monkeypatch.setenv("SURVEY_API_REFRESH_REUSE_SECONDS", "30")
    assert create_app().config["REFRESH_REUSE_SECONDS"] == 30


def test_secret_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SURVEY_API_SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_secret_from_env_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_API_SECRET_KEY", "from-the-environment-0123456789abcdef")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment-0123456789abcdef"
    assert not (tmp_path / "secret_key").exists()


def test_connection_pragmas(app):
    from survey_api.db import get_db

    with app.app_context():
        conn = get_db().conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 15000
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
