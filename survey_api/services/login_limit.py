"""Failed-login limiting per username and per address, kept in the database.

Appendix B: 10 failures per username and 100 per address in 15 minutes, so that one
person's typos lock out that username, not the whole office behind the same NAT address.
Kept in SQLite so that every gunicorn worker sees the same counts.
"""

import math
import time

from flask import current_app

from ..errors import ApiError
from ..storage import tokens as token_store


def check(conn, username, ip):
    """Raise 429 RATE_LIMITED when either the username or the address is over the limit."""
    config = current_app.config
    window = config["LOGIN_WINDOW_SECONDS"]
    now = time.time()
    for column, value, limit in (
        ("username", username, config["LOGIN_MAX_FAILURES"]),
        ("ip", ip, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        count, oldest = token_store.login_failures_since(conn, column, value, now - window)
        if count >= limit:
            retry = max(1, math.ceil(oldest + window - now))
            raise ApiError(
                429,
                "RATE_LIMITED",
                f"Too many failed logins; try again in {retry} s.",
                headers={"Retry-After": str(retry)},
            )


def record_failure(conn, username, ip):
    token_store.record_login_failure(conn, username, ip)
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    token_store.purge_login_failures(conn, time.time() - 2 * window)
