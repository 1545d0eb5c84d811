"""Configuration layering: defaults in code, then instance/config.py, then SURVEY_API_* env."""

import os
import secrets

ENV_PREFIX = "SURVEY_API"

DEFAULTS = {
    "ACCESS_TOKEN_SECONDS": 3600,
    "REFRESH_TOKEN_SECONDS": 30 * 24 * 3600,
    # A rotated refresh token presented again within this many seconds is a retry (Appendix B).
    "REFRESH_REUSE_SECONDS": 60,
    # Failed logins in LOGIN_WINDOW_SECONDS: per username, and per client address.
    # The console's session cookies carry Secure: turn on when served over HTTPS.
    "COOKIE_SECURE": False,
    "LOGIN_MAX_FAILURES": 10,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 100,
    "LOGIN_WINDOW_SECONDS": 900,
    # Push bodies are capped at 5 MiB; blob uploads raise the cap for their own request.
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    "MAX_BLOB_BYTES": 10 * 1024 * 1024,
    "PUSH_MAX_ITEMS": 1000,
    "IDEMPOTENCY_TTL_DAYS": 30,
    # An in-flight push mark older than this is taken as dead (its worker was killed).
    "IDEMPOTENCY_STALE_SECONDS": 30,
    "BUSY_TIMEOUT_MS": 15000,
    "JSON_MAX_DEPTH": 32,
    "TIMEZONE": "Asia/Shanghai",
    # Behind a reverse proxy (docs/deploy.md): how many proxies set X-Forwarded-*, and the
    # addresses they connect from; 0 ignores those headers (proxy.py).
    "TRUSTED_PROXY_COUNT": 0,
    "TRUSTED_PROXIES": "127.0.0.1,::1",
}


def instance_path_from_env():
    """The instance folder: SURVEY_API_INSTANCE_PATH, else Flask's default."""
    path = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def load(app, test_config=None):
    """Fill app.config in the documented order and make sure a secret exists."""
    app.config.from_mapping(DEFAULTS)
    app.config["DATABASE"] = os.path.join(app.instance_path, "survey.db")
    app.config["BLOB_DIR"] = os.path.join(app.instance_path, "blobs")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env(ENV_PREFIX)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    app.config["JWT_SECRET_KEY"] = app.config["SECRET_KEY"]


def _instance_secret(instance_path):
    """Read the generated secret, creating it once (safe when several workers race)."""
    path = os.path.join(instance_path, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as f:
            secret = f.read().strip()
        if secret:
            return secret
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret") from None
    secret = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret)
    return secret
