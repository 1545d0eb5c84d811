"""Every endpoint but login and the OpenAPI document needs a token: checked over the URL map."""

from conftest import assert_problem

from survey_api.api.guards import PUBLIC_ENDPOINTS

SAMPLE_ARGS = {
    "code": "370303001001",
    "user_id": "00000000-0000-4000-8000-000000000000",
    "id": "00000000-0000-4000-8000-000000000000",
    "problem_id": "00000000-0000-4000-8000-000000000000",
    "sha256": "0" * 64,
    "day": "2026-10-01",
    "date": "2026-10-01",
    "household_id": "00000000-0000-4000-8000-000000000000",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", SAMPLE_ARGS.get(arg, "x"))
            for conv in ("string", "int", "path", "record_id"):
                url = url.replace(f"<{conv}:{arg}>", SAMPLE_ARGS.get(arg, "x"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield method, url


def test_every_endpoint_needs_a_token(app, client):
    routes = list(_routes(app))
    assert len(routes) >= 8
    for method, url in routes:
        resp = client.open(
            url, method=method, json={} if method in ("POST", "PUT", "PATCH") else None
        )
        body = assert_problem(resp, 401, "TOKEN_MISSING")
        assert resp.headers.get("WWW-Authenticate") == "Bearer", (method, url, body)


def test_every_endpoint_rejects_a_revoked_token(app, client, auth):
    headers = auth.headers("admin")
    client.post("/api/v1/auth/logout", headers=headers)
    for method, url in _routes(app):
        if url.endswith("/auth/refresh"):
            continue  # takes a refresh token
        resp = client.open(url, method=method, headers=headers)
        assert_problem(resp, 401, "TOKEN_REVOKED")
