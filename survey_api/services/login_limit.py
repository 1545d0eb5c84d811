"""Failed-login limiting per username and per address, kept in the database.

Kept in SQLite so that every gunicorn worker sees the same counts.
"""

import math
import time

from flask import current_app

from ..errors import ApiError
from ..storage import tokens as token_store


def check(conn, username, ip):
    """Raise 429 RATE_LIMITED when either the username or the address is over the limit."""
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    now = time.time()
    for column, value in (("username", username), ("ip", ip)):
        count, oldest = token_store.login_failures_since(conn, column, value, now - window)
        if count >= limit:
            retry = max(1, math.ceil(oldest + window - now))
            raise ApiError(429, "RATE_LIMITED",
                           f"Too many failed logins; try again in {retry} s.",
                           headers={"Retry-After": str(retry)})


def record_failure(conn, username, ip):
    token_store.record_login_failure(conn, username, ip)
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    token_store.purge_login_failures(conn, time.time() - 2 * window)
