"""Server time, Asia/Shanghai dates and the ISO 8601 forms stored in the database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now():
    return datetime.now(UTC)


def iso(dt):
    """The one stored form: UTC, microseconds, '+00:00' (sorts as text)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def now_iso():
    return iso(now())


def parse_iso(text):
    """Parse a stored or client ISO datetime (must be aware)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError("datetime has no timezone")
    return dt


def local_date(dt):
    """The Asia/Shanghai calendar date of an aware datetime."""
    return dt.astimezone(SHANGHAI).date()


def start_of_local_day(d: date):
    return datetime.combine(d, time(0, 0), SHANGHAI)


def end_of_local_day(d: date):
    """23:59:59 Asia/Shanghai on d (the deadline instant)."""
    return datetime.combine(d, time(23, 59, 59), SHANGHAI)


def period_bounds(start, end):
    """from/to query values (date or aware datetime) → inclusive UTC ISO bounds or None."""
    lo = hi = None
    if start is not None:
        lo = iso(start_of_local_day(start) if not isinstance(start, datetime) else start)
    if end is not None:
        if isinstance(end, datetime):
            hi = iso(end)
        else:
            hi = iso(start_of_local_day(end + timedelta(days=1)) - timedelta(microseconds=1))
    return lo, hi
