"""survey-api: the backend the grid workers' offline-first phone app syncs with."""

import os

from flask import Flask

from . import config, console, db, errors, proxy, request_body, tokens
from .api import API_PREFIX, guards, register_converters
from .migrations import MIGRATIONS, current_version, migrate
from .openapi import SurveyApi

API_DESCRIPTION = """Door-to-door survey backend (入户走访, 问题清单, 整改清单).

Every error is `application/problem+json` (RFC 9457) with a stable `code`.
`POST /api/v1/sync/push` takes at most 1,000 items and 5 MiB a push.

Input rules for every endpoint: a JSON body that repeats a key is 400 `MALFORMED_BODY`; a
query parameter the endpoint does not take is 422 `VALIDATION_ERROR` naming it; `from` after
`to` is 422; text fields refuse control characters other than tab, line feed and carriage
return (422); a PATCH with no field to change is 422; `If-Match` is a version in ASCII digits,
bare or quoted. A photo is at most 10,485,760 bytes.

Personal data is masked unless `unmask=true` (secretaries and above, audited): phone
`138****1234`, name `张*`, building, unit and room `*`, and in the address every building,
unit, floor and room number (`杏园东路175号杏园小区*号楼*单元*室`)."""


def create_app(test_config=None):
    """Application factory."""
    app = Flask(
        __name__, instance_relative_config=True, instance_path=config.instance_path_from_env()
    )
    os.makedirs(app.instance_path, exist_ok=True)
    config.load(app, test_config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config.update(
        API_TITLE="survey-api",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": API_DESCRIPTION},
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    )
    db.init_app(app)
    tokens.init_app(app)
    api = SurveyApi(app)
    register_converters(app, api)
    _register_blueprints(api)
    errors.register(app)
    console.init_app(app)
    app.before_request(guards.require_token)
    app.before_request(request_body.check_query)
    app.before_request(request_body.check_json_body)
    proxy.trust(app)
    if app.config.get("AUTO_MIGRATE", True):
        _migrate_if_needed(app)
    return app


def _register_blueprints(api):
    from .api import (
        audit,
        auth,
        blobs,
        calendar,
        categories,
        household_import,
        households,
        lists,
        problem_actions,
        problems,
        sync,
        units,
        users,
        visits,
    )

    for module in (
        auth,
        units,
        users,
        lists,
        audit,
        problem_actions,
        categories,
        calendar,
        households,
        visits,
        problems,
        blobs,
        household_import,
        sync,
    ):
        api.register_blueprint(module.blp)


def _migrate_if_needed(app):
    """Migrate at start; the versions applied are kept for `survey-api init-db` to report."""
    conn = db.connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    try:
        applied = migrate(conn) if current_version(conn) < len(MIGRATIONS) else []
    finally:
        conn.close()
    app.extensions["migrations_applied_at_start"] = applied
