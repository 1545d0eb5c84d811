"""Console page tests: log in through the login form, read the CSRF token from a page."""

import re

from conftest import PASSWORD

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def console_login(client, username, password=PASSWORD, next_url=None):
    """Log in through /console/login; returns the response (a redirect when it worked)."""
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/console/login", data=data)


def csrf_of(client):
    """The session's CSRF token, as the pages carry it."""
    html = client.get("/console/problems").get_data(as_text=True)
    m = _CSRF.search(html)
    assert m, html[:500]
    return m.group(1)


def text(resp):
    return resp.get_data(as_text=True)
