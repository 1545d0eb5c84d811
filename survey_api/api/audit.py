"""The audit log (admin only): every write, export and unmasking, newest first."""

from schemas.lists import AuditPageSchema, AuditQuery

from ..errors import ApiError
from ..pagination import decode_cursor, encode_cursor
from ..scope import current_scope
from ..storage import audit as audit_store
from ..storage import users as user_store
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
        raise ApiError(422, "VALIDATION_ERROR", "The cursor is not valid.",
                       errors={"cursor": ["Not a valid cursor."]})
    lo, hi = period_bounds(args["from_"], args["to"])
    actor = args["actor"]
    if actor is not None:
        user = user_store.get_by_username(scope.conn, actor)
        actor = user["id"] if user else actor  # entries store the user id
    rows = audit_store.list_entries(scope.conn, action=args["action"], actor=actor, lo=lo,
                                    hi=hi, before_id=before, limit=args["limit"] + 1)
    items = rows[:args["limit"]]
    next_cursor = encode_cursor(items[-1]["id"]) if len(rows) > args["limit"] else None
    return {"items": items, "next_cursor": next_cursor}
