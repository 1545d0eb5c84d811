"""POST /problems/{id}/actions: every lifecycle step of a problem (services/lifecycle.py)."""

from flask import request

from schemas.problem_actions import ActionRequestSchema
from schemas.problems import ProblemSchema

from ..db import get_db
from ..errors import ApiError
from ..request_body import json_body
from ..scope import current_scope
from ..services import lifecycle
from . import blueprint

blp = blueprint("problem_actions", __name__, description="Problem lifecycle actions")

_MISSING = object()


@blp.route("/problems/<problem_id>/actions", methods=["POST"])
@blp.doc(
    requestBody={"required": True, "content": {"application/json": {"schema": ActionRequestSchema}}}
)
@blp.response(200, ProblemSchema)
@blp.alt_response(403, description="ACTION_FORBIDDEN or OUT_OF_SCOPE")
@blp.alt_response(404, description="NOT_FOUND")
@blp.alt_response(409, description="STALE_VERSION or INVALID_TRANSITION, with `current`")
@blp.alt_response(422, description="VALIDATION_ERROR")
def act(problem_id):
    """Apply one action: {action, base_version, ...parameters} → the updated problem."""
    scope = current_scope()
    body = json_body()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "The body must be a JSON object.",
            errors={"_schema": ["The body must be a JSON object."]},
        )
    data = {k: v for k, v in body.items() if k != "base_version"}
    problem = lifecycle.act(
        get_db().conn,
        scope,
        problem_id.lower(),
        body.get("base_version"),
        data,
        request.remote_addr,
    )
    return problem, 200, {"ETag": f'"{problem["version"]}"'}
