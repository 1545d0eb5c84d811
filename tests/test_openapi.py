"""The OpenAPI document: valid, complete, and true to what the server answers (schemathesis)."""

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from survey_api import create_app


def test_openapi_is_public_and_valid(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if (
            not rule.rule.startswith("/api/v1/")
            or rule.rule.endswith("openapi.json")
            or "test-" in rule.rule
        ):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_errors_documented_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default["content"]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_fuzz_no_5xx_and_responses_match_schema(tmp_path):
    """Bounded fuzzing of every operation as admin: no 5xx, every answer as documented.

    Drives schemathesis' strategies directly: its pytest plugin does not load on pytest 9.
    """
    from conftest import PASSWORD, seed_tree

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s" * 40,
            "DATABASE": str(tmp_path / "fuzz.db"),
            "BLOB_DIR": str(tmp_path / "b"),
            "LOGIN_MAX_FAILURES": 10_000,
            "LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000,
        }
    )
    seed_tree(app.config["DATABASE"])
    token = (
        app.test_client()
        .post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        .get_json()["access_token"]
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        public = operation.path.endswith(("/auth/login", "/auth/refresh"))
        headers = {} if public else {"Authorization": f"Bearer {token}"}
        if operation.path.endswith("/auth/logout"):
            continue  # would revoke the token the rest of the run uses

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case):
            case.call_and_validate(headers=fuzz.headers, checks=CHECKS)

        fuzz.headers = headers
        fuzz()
