"""Reading the audit log (admin): filters by action, actor and time, newest first.

Both doors call this: GET /api/v1/audit and the console's /console/admin/audit.
"""

from ..roles import ADMIN
from ..storage import audit as audit_store
from ..storage import users as user_store


def entries(conn, scope, *, action=None, actor=None, lo=None, hi=None, before=None, limit=100):
    """Up to `limit` entries older than id `before`; `actor` is a username or a user id."""
    scope.require_role(ADMIN)
    if actor is not None:
        user = user_store.get_by_username(conn, actor)
        actor = user["id"] if user else actor  # entries store the user id
    return audit_store.list_entries(
        conn, action=action, actor=actor, lo=lo, hi=hi, before_id=before, limit=limit
    )


def actor_names(conn, items):
    """{user id: username} for the actors of some entries (the console shows names)."""
    ids = {i["actor"] for i in items if i["actor"]}
    return {i: u["username"] for i in ids if (u := user_store.get(conn, i))}
