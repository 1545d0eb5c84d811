"""The audit log (admin only): every write, export and unmasking, newest first."""

from schemas.lists import AuditPageSchema, AuditQuery

from ..errors import ApiError
from ..pagination import decode_cursor, encode_cursor
from ..scope import current_scope
from ..services import audit_log
from ..timeutil import period_bounds
from . import blueprint

blp = blueprint("audit", __name__, description="The audit log (admin)")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditPageSchema)
def list_audit(args):
    """Audit entries filtered by action, actor (user id) and time, newest first."""
    scope = current_scope()
    scope.require_role("admin")
    before = decode_cursor(args["cursor"])
    if before is not None and (not isinstance(before, int) or isinstance(before, bool)):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "The cursor is not valid.",
            errors={"cursor": ["Not a valid cursor."]},
        )
    lo, hi = period_bounds(args["from_"], args["to"])
    rows = audit_log.entries(
        scope.conn,
        scope,
        action=args["action"],
        actor=args["actor"],
        lo=lo,
        hi=hi,
        before=before,
        limit=args["limit"] + 1,
    )
    items = rows[: args["limit"]]
    next_cursor = encode_cursor(items[-1]["id"]) if len(rows) > args["limit"] else None
    return {"items": items, "next_cursor": next_cursor}
