"""The real client address behind a proxy (proxy.py): X-Forwarded-For believed only from the
configured proxy addresses, and only when TRUSTED_PROXY_COUNT says there is a proxy."""

import pytest
from conftest import PASSWORD, seed_tree

from survey_api import create_app
from survey_api.proxy import trusted_addresses


def _app(tmp_path, **config):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k" * 40,
            "DATABASE": str(tmp_path / "survey.db"),
            "BLOB_DIR": str(tmp_path / "blobs"),
            **config,
        }
    )
    seed_tree(app.config["DATABASE"])
    return app


def _login_address(app, peer, forwarded):
    client = app.test_client()
    resp = client.post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": peer},
    )
    assert resp.status_code == 200
    from survey_api.db import connect

    conn = connect(app.config["DATABASE"])
    try:
        return conn.execute(
            "SELECT ip FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize(
    "config, peer, seen",
    [
        ({}, "127.0.0.1", "127.0.0.1"),  # no proxy configured: the header is anyone's to forge
        ({"TRUSTED_PROXY_COUNT": 1}, "127.0.0.1", "203.0.113.9"),
        ({"TRUSTED_PROXY_COUNT": 1}, "10.1.2.3", "10.1.2.3"),  # not the proxy: ignored
        ({"TRUSTED_PROXY_COUNT": 1, "TRUSTED_PROXIES": "10.1.2.3"}, "10.1.2.3", "203.0.113.9"),
        ({"TRUSTED_PROXY_COUNT": 1, "TRUSTED_PROXIES": ["10.1.2.3"]}, "127.0.0.1", "127.0.0.1"),
    ],
)
def test_forwarded_for_is_believed_only_from_the_proxy(tmp_path, config, peer, seen):
    assert _login_address(_app(tmp_path, **config), peer, "198.51.100.1, 203.0.113.9") == seen


def test_the_proxy_setting_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_API_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_API_TRUSTED_PROXY_COUNT", "1")
    monkeypatch.setenv("SURVEY_API_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.2")
    app = create_app()
    assert app.config["TRUSTED_PROXY_COUNT"] == 1
    assert trusted_addresses(app.config) == {"127.0.0.1", "10.0.0.2"}
