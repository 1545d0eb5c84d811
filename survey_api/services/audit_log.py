"""Reading the audit log (admin only): every write, export and unmasking, newest first."""

from ..roles import ADMIN
from ..storage import audit as audit_store
from ..storage import users as user_store


def entries(scope, *, action=None, actor=None, lo=None, hi=None, before_id=None, limit=100):
    """Entries filtered by action, actor (a username or a user id) and time, newest first."""
    scope.require_role(ADMIN)
    if actor is not None:
        user = user_store.get_by_username(scope.conn, actor)
        actor = user["id"] if user else actor  # entries store the user id
    return audit_store.list_entries(scope.conn, action=action, actor=actor, lo=lo, hi=hi,
                                    before_id=before_id, limit=limit)
