"""The working calendar (admin): read the days deadlines count, set or remove overrides."""

from datetime import date, datetime, timedelta

from flask import request

from schemas.calendar import CalendarDaySchema, CalendarPageSchema, CalendarPutSchema, CalendarQuery

from ..db import get_db
from ..errors import ApiError, validation_error
from ..pagination import decode_cursor, encode_cursor
from ..scope import current_scope
from ..services import deadlines, working_calendar
from ..timeutil import local_date, now
from . import blueprint

blp = blueprint("calendar", __name__, description="Working days for deadlines (admin)")


def _as_date(value, field):
    if value is None or not isinstance(value, datetime):
        return value
    try:
        return local_date(value)
    except OverflowError:
        raise validation_error({field: ["Out of range."]}) from None


def _plus(d, days):
    """d + days, stopping at the last representable date."""
    return d + timedelta(days=days) if (date.max - d).days >= days else date.max


def _path_date(day):
    """YYYY-MM-DD from the path; anything else is 404 (a malformed id)."""
    try:
        if len(day) != 10:
            raise ValueError
        return date.fromisoformat(day)
    except ValueError:
        raise ApiError(404, "NOT_FOUND", f"No calendar day {day}.") from None


@blp.route("/calendar", methods=["GET"])
@blp.arguments(CalendarQuery, location="query")
@blp.response(200, CalendarPageSchema)
def list_days(args):
    """Each day from..to (inclusive; default today and a year on) with is_workday, source
    (override | package | estimated) and name."""
    current_scope().require_role("admin")
    lo = _as_date(args["from_"], "from") or local_date(now())
    hi = _as_date(args["to"], "to") or _plus(lo, 365)
    if hi < lo:
        raise validation_error({"to": ["Must not be before from."]})
    after = decode_cursor(args["cursor"])
    if after is not None:
        try:
            lo = max(lo, date.fromisoformat(after) + timedelta(days=1))
        except (TypeError, ValueError, OverflowError):
            raise validation_error({"cursor": ["Not a valid cursor."]}) from None
    if lo > hi:
        return {"items": [], "next_cursor": None}
    last = hi if (hi - lo).days < args["limit"] else _plus(lo, args["limit"] - 1)
    items = [d.to_api() for d in deadlines.days(get_db().conn, lo, last)]
    return {"items": items, "next_cursor": encode_cursor(last.isoformat()) if last < hi else None}


@blp.route("/calendar/<day>", methods=["GET"])
@blp.response(200, CalendarDaySchema)
def get_day(day):
    """One day as deadlines see it."""
    current_scope().require_role("admin")
    return deadlines.day(get_db().conn, _path_date(day)).to_api()


@blp.route("/calendar/<day>", methods=["PUT"])
@blp.arguments(CalendarPutSchema)
@blp.response(200, CalendarDaySchema)
def put_day(args, day):
    """Set the override of a day (a holiday notice's day off or make-up workday)."""
    scope = current_scope()
    scope.require_role("admin")  # before the path is read
    d = _path_date(day)
    return working_calendar.set_override(
        scope.conn, scope, d, args["is_workday"], args["name"], ip=request.remote_addr
    ).to_api()


@blp.route("/calendar/<day>", methods=["DELETE"])
@blp.response(204)
def delete_day(day):
    """Remove a day's override (the package or the estimate decides again)."""
    scope = current_scope()
    scope.require_role("admin")  # before the path is read
    working_calendar.remove_override(scope.conn, scope, _path_date(day), ip=request.remote_addr)
    return "", 204
