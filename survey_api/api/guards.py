"""Authentication for every endpoint, in one place, before the body is even read."""

from flask import request
from flask_jwt_extended import verify_jwt_in_request

# Endpoints reachable without an access token.
PUBLIC_ENDPOINTS = {"auth.login", "api-docs.openapi_json", "static"}
REFRESH_ENDPOINTS = {"auth.refresh"}


def require_token():
    """before_request: a valid, unrevoked token (refresh token for /auth/refresh)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    if request.blueprint == "console":
        return  # the console checks its cookie session itself (survey_api/console/session.py)
    verify_jwt_in_request(refresh=endpoint in REFRESH_ENDPOINTS)
