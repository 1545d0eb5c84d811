"""Every error the app gives is RFC 9457 problem+json with a stable code."""

import sqlite3

import pytest
from conftest import assert_problem

from survey_api.errors import TITLES, type_uri


def test_unknown_route_404(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")


def test_method_not_allowed_has_allow(client, auth):
    resp = client.delete("/api/v1/me", headers=auth.headers("admin"))
    assert_problem(resp, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in resp.headers["Allow"]


def test_body_too_large_413(client, auth):
    big = b'{"username": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}'
    resp = client.post(
        "/api/v1/units", data=big, content_type="application/json", headers=auth.headers("admin")
    )
    assert_problem(resp, 413, "PAYLOAD_TOO_LARGE")


def test_wrong_content_type_415(client, auth):
    resp = client.post(
        "/api/v1/units",
        data="code=1",
        headers=auth.headers("admin"),
        content_type="application/x-www-form-urlencoded",
    )
    assert_problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"a": 1,}',
        b"\xff\xfe{}",
        b'{"a": NaN}',
        b"[" * 40 + b"]" * 40,
        b'{"a":' * 33 + b"1" + b"}" * 33,
    ],
)
def test_malformed_bodies_400(client, auth, body):
    resp = client.post(
        "/api/v1/units", data=body, content_type="application/json", headers=auth.headers("admin")
    )
    assert_problem(resp, 400, "MALFORMED_BODY")


def test_nesting_at_limit_is_not_malformed(client, auth):
    body = b'{"a":' * 31 + b"1" + b"}" * 31  # 31 levels: fine, but not a valid unit
    resp = client.post(
        "/api/v1/units", data=body, content_type="application/json", headers=auth.headers("admin")
    )
    assert_problem(resp, 422, "VALIDATION_ERROR")


def test_validation_errors_keyed_by_field(client, auth):
    resp = client.post(
        "/api/v1/units",
        json={"code": "bad code!", "name": "", "level": "city", "surprise": True},
        headers=auth.headers("admin"),
    )
    body = assert_problem(resp, 422, "VALIDATION_ERROR")
    assert set(body["errors"]) >= {"code", "name", "level", "surprise"}


def test_query_validation_422(client, auth):
    for qs in ("limit=0", "limit=1001", "limit=abc", "level=city"):
        body = assert_problem(
            client.get(f"/api/v1/units?{qs}", headers=auth.headers("admin")),
            422,
            "VALIDATION_ERROR",
        )
        assert body["errors"]


def test_bad_cursor_422(client, auth):
    assert_problem(
        client.get("/api/v1/units?cursor=!!!", headers=auth.headers("admin")),
        422,
        "VALIDATION_ERROR",
    )


def test_unexpected_error_500_without_trace(app, client, auth):
    @app.get("/api/v1/test-boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = client.get("/api/v1/test-boom", headers=auth.headers("admin"))
    body = assert_problem(resp, 500, "INTERNAL_ERROR")
    assert "secret internals" not in resp.get_data(as_text=True)
    assert "Traceback" not in body["detail"]


def test_locked_database_503(app, client, auth):
    @app.get("/api/v1/test-locked")
    def locked():
        raise sqlite3.OperationalError("database is locked")

    resp = client.get("/api/v1/test-locked", headers=auth.headers("admin"))
    assert_problem(resp, 503, "SERVICE_UNAVAILABLE")
    assert resp.headers["Retry-After"] == "1"


def test_type_uri_unique_per_code():
    uris = {type_uri(code) for code in TITLES}
    assert len(uris) == len(TITLES)
