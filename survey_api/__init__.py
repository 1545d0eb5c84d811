"""survey-api: the backend the grid workers' offline-first phone app syncs with."""

import os

from flask import Flask

from . import config, console, db, errors, request_body, tokens
from .api import API_PREFIX, guards
from .migrations import MIGRATIONS, current_version, migrate
from .openapi import SurveyApi

API_DESCRIPTION = """Door-to-door survey backend (入户走访, 问题清单, 整改清单).

Every error is `application/problem+json` (RFC 9457) with a stable `code`.
`POST /api/v1/sync/push` takes at most 1,000 items and 5 MiB a push."""


def create_app(test_config=None):
    """Application factory."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=config.instance_path_from_env())
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
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        },
    )
    db.init_app(app)
    tokens.init_app(app)
    api = SurveyApi(app)
    _register_blueprints(api)
    errors.register(app)
    console.init_app(app)
    app.before_request(guards.require_token)
    app.before_request(request_body.check_json_body)
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

    for module in (auth, units, users, lists, audit, problem_actions, categories, calendar,
                   households, visits, problems, blobs, household_import, sync):
        api.register_blueprint(module.blp)


def _migrate_if_needed(app):
    conn = db.connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    try:
        if current_version(conn) < len(MIGRATIONS):
            migrate(conn)
    finally:
        conn.close()
