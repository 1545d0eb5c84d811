"""The working calendar's admin side: set and remove day overrides, import a holiday notice.

Both doors call these: api/calendar.py and the console's /console/admin/calendar. Which day
counts is decided in services/deadlines.py; this module only edits the override table.
"""

from ..db import write_tx
from ..errors import ApiError
from ..roles import ADMIN
from ..storage import audit
from ..storage import calendar as calendar_store
from . import calendar_import, deadlines


def set_override(conn, scope, day, is_workday, name=None, ip=None):
    """Override one day (a notice's day off or make-up workday), audited, in one write
    transaction; returns the Day as deadlines now see it."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        calendar_store.put(conn, day.isoformat(), is_workday, name)
        audit.record(
            conn,
            actor=scope.user_id,
            action="calendar.set",
            target=day.isoformat(),
            ip=ip,
            details={"is_workday": is_workday, "name": name},
        )
        return deadlines.day(conn, day)


def remove_override(conn, scope, day, ip=None):
    """Remove a day's override (the package or the estimate decides again); 404 when none.
    One write transaction."""
    scope.require_role(ADMIN)
    with write_tx(conn):
        if not calendar_store.delete(conn, day.isoformat()):
            raise ApiError(404, "NOT_FOUND", f"No override for {day.isoformat()}.")
        audit.record(
            conn, actor=scope.user_id, action="calendar.delete", target=day.isoformat(), ip=ip
        )


def import_notice(conn, scope, stream, *, source, ip=None):
    """Import a `date,is_workday,name` CSV (all or nothing: CalendarImportError lists the bad
    lines); (created, updated), audited. Runs its own transaction."""
    scope.require_role(ADMIN)
    rows = calendar_import.parse(stream)
    with write_tx(conn):
        created, updated = calendar_import.store(conn, rows)
        audit.record(
            conn,
            actor=scope.user_id,
            action="calendar.import",
            target=source,
            ip=ip,
            details={"created": created, "updated": updated},
        )
    return created, updated


def overrides(conn, lo, hi):
    """The overrides between two dates (YYYY-MM-DD texts), by date."""
    return [v for _k, v in sorted(calendar_store.between(conn, lo, hi).items())]
