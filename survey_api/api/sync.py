"""Offline sync: POST /sync/push (idempotent batches) and GET /sync/pull (cursor paging)."""

import hashlib
import re

from flask import current_app, request

from schemas.sync import (
    PUSH_DESCRIPTION,
    PullQuery,
    PullResponseSchema,
    PushResponseSchema,
    PushSchema,
)

from ..db import get_db
from ..errors import ApiError
from ..request_body import json_body
from ..scope import current_scope
from ..services import pull as pull_service
from ..services import push as push_service
from . import blueprint

blp = blueprint("sync", __name__, description="Offline sync for the phone app")
_KEY = re.compile(r"^[\x21-\x7e]{8,128}$")


@blp.route("/sync/push", methods=["POST"])
@blp.arguments(PushSchema)
@blp.response(200, PushResponseSchema)
@blp.doc(
    description=PUSH_DESCRIPTION,
    parameters=[
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "minLength": 8, "maxLength": 128},
        }
    ],
)
def push(args):
    """Apply a batch of offline changes, item by item, exactly once."""
    key = idempotency_key()
    raw = request.get_data(cache=True)
    body_sha = hashlib.sha256(raw).hexdigest()
    response = push_service.run(
        get_db().conn,
        current_scope(),
        key,
        body_sha,
        args,
        stale_seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"],
        ttl_days=current_app.config["IDEMPOTENCY_TTL_DAYS"],
        ip=request.remote_addr,
    )
    # The text stored with the key: a replay answers exactly these bytes.
    return current_app.response_class(response, 200, mimetype="application/json")


def idempotency_key():
    """The Idempotency-Key header: 8-128 visible ASCII characters, else 400."""
    key = request.headers.get("Idempotency-Key", "")
    if not _KEY.match(key):
        raise ApiError(
            400,
            "IDEMPOTENCY_KEY_MISSING",
            "Send an Idempotency-Key header of 8-128 visible ASCII characters.",
        )
    return key


def check_push_envelope():
    """before the schema: too many items is 413, not 422 (the schema also says maxItems 1000)."""
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        limit = current_app.config["PUSH_MAX_ITEMS"]
        if len(body["items"]) > limit:
            raise ApiError(413, "TOO_MANY_ITEMS", f"A push takes at most {limit} items.")


@blp.before_request
def _before():
    if request.endpoint == "sync.push":
        idempotency_key()  # the header before the body
        check_push_envelope()


@blp.route("/sync/pull", methods=["GET"])
@blp.arguments(PullQuery, location="query")
@blp.response(200, PullResponseSchema)
def pull(args):
    """Everything in the caller's scope changed since the cursor (no cursor: a full load)."""
    scope = current_scope()
    if args["unmask"]:
        scope.check_unmask()
    body = pull_service.pull(
        get_db().conn,
        scope,
        args["cursor"],
        args["limit"],
        secret=current_app.config["SECRET_KEY"],
        unmask=args["unmask"],
        ip=request.remote_addr,
    )
    return current_app.response_class(
        current_app.json.dumps(body), 200, mimetype="application/json"
    )
