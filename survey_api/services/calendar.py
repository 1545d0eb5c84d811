"""The working calendar's overrides (admin): set or remove the day off or make-up workday."""

from datetime import date

from ..db import write_tx
from ..errors import ApiError
from ..roles import ADMIN
from ..storage import audit
from ..storage import calendar as calendar_store
from . import deadlines


def path_date(day):
    """A day named as YYYY-MM-DD; anything else is 404 (a malformed id)."""
    try:
        if len(day) != 10:
            raise ValueError
        return date.fromisoformat(day)
    except ValueError:
        raise ApiError(404, "NOT_FOUND", f"No calendar day {day}.") from None


def set_override(scope, day, is_workday, name=None, *, ip=None):
    """Set a day's override (day: YYYY-MM-DD text); the day as deadlines now see it."""
    scope.require_role(ADMIN)
    day = path_date(day)
    conn = scope.conn
    with write_tx(conn):
        calendar_store.put(conn, day.isoformat(), is_workday, name)
        audit.record(conn, actor=scope.user_id, action="calendar.set", target=day.isoformat(),
                     ip=ip, details={"is_workday": is_workday, "name": name})
        return deadlines.day(conn, day).to_api()


def remove_override(scope, day, *, ip=None):
    """Remove a day's override (404 when it has none): the package or the estimate decides."""
    scope.require_role(ADMIN)
    day = path_date(day)
    conn = scope.conn
    with write_tx(conn):
        if not calendar_store.delete(conn, day.isoformat()):
            raise ApiError(404, "NOT_FOUND", f"No override for {day.isoformat()}.")
        audit.record(conn, actor=scope.user_id, action="calendar.delete", target=day.isoformat(),
                     ip=ip)
