"""Deadlines in working days, Asia/Shanghai.

Whether a day is a working day comes from, in order:
1. the admin-edited override table (``calendar_overrides``),
2. the ``chinesecalendar`` package (official holidays and make-up workdays, 调休),
3. Monday–Friday, marked *estimated*, where neither has data (the package stops at
   2026-12-31 in version 1.11; it raises NotImplementedError beyond its years).

A deadline of N working days after an acceptance on date D is 23:59:59 Asia/Shanghai of
the Nth working day after D (day 1 = the first working day after D). Urgent problems are
due 24 hours after acceptance instead.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar

from ..statuses import DONE
from ..storage import calendar as calendar_store
from ..storage.overdue import deadline_runs
from ..timeutil import SHANGHAI, end_of_local_day, local_date, parse_iso

OVERRIDE, PACKAGE, ESTIMATED = "override", "package", "estimated"
URGENT_HOURS = 24
# No deadline is further away than this many calendar days (guards against a calendar
# whose overrides mark everything as a holiday).
MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class Day:
    date: date
    is_workday: bool
    source: str  # override | package | estimated
    name: str | None

    def to_api(self):
        return {
            "date": self.date.isoformat(),
            "is_workday": self.is_workday,
            "source": self.source,
            "name": self.name,
        }


@functools.lru_cache(maxsize=4096)
def _package_day(d):
    """(is_workday, name) from chinesecalendar, or None beyond its data. Remembered per date
    (the package's data never changes in a process; each lookup scans its whole holiday
    table for the years it covers: ~60 µs, and an export asks for ~1,000 dates)."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return None
    # get_holiday_detail is (True, None) on an ordinary weekend, (False, name) on a make-up
    # workday (调休) and (True, name) on a public holiday.
    return (not is_holiday), name


def _day(d, overrides):
    override = overrides.get(d.isoformat())
    if override is not None:
        return Day(d, override["is_workday"], OVERRIDE, override["name"])
    package = _package_day(d)
    if package is not None:
        return Day(d, package[0], PACKAGE, package[1])
    return Day(d, d.weekday() < 5, ESTIMATED, None)


def days(conn, lo, hi):
    """Every day lo..hi (inclusive) with whether it is a working day and why."""
    overrides = calendar_store.between(conn, lo.isoformat(), hi.isoformat())
    return [_day(lo + timedelta(days=i), overrides) for i in range((hi - lo).days + 1)]


def day(conn, d):
    return days(conn, d, d)[0]


class _Calendar:
    """Walks forward day by day, loading overrides a window at a time."""

    WINDOW = 62

    def __init__(self, conn):
        self.conn = conn
        self.overrides = {}
        self.loaded_until = None

    def day(self, d):
        if self.loaded_until is None or d > self.loaded_until:
            hi = d + timedelta(days=self.WINDOW)
            self.overrides.update(calendar_store.between(self.conn, d.isoformat(), hi.isoformat()))
            self.loaded_until = hi
        return _day(d, self.overrides)


def add_working_days(conn, start, n):
    """The Nth working day after the date start (n=0: start itself) and whether any day
    on the way came from the Monday–Friday estimate."""
    cal = _Calendar(conn)
    d, counted, estimated = start, 0, False
    for _ in range(MAX_SCAN_DAYS):
        if counted >= n:
            return d, estimated
        d += timedelta(days=1)
        info = cal.day(d)
        estimated = estimated or info.source == ESTIMATED
        if info.is_workday:
            counted += 1
    raise ValueError(f"no {n} working days within {MAX_SCAN_DAYS} days after {start}")


def working_days_between(conn, start, end):
    """Working days d with start < d <= end (dates), and whether any was estimated.

    A problem suspended on Monday and resumed on Wednesday lost two working days
    (Tuesday and Wednesday); suspended and resumed the same day, none.
    """
    if end <= start:
        return 0, False
    count, estimated = 0, False
    for info in days(conn, start + timedelta(days=1), end):
        estimated = estimated or info.source == ESTIMATED
        count += info.is_workday
    return count, estimated


def due_after(conn, accepted_at: datetime, working_days: int, urgent=False):
    """(due_at, due_estimated) for a problem accepted (or reopened) at accepted_at."""
    if urgent:
        return accepted_at + timedelta(hours=URGENT_HOURS), False
    due_date, estimated = add_working_days(conn, local_date(accepted_at), working_days)
    return end_of_local_day(due_date), estimated


def shift_due(conn, due_at: datetime, working_days: int):
    """due_at moved later by working days, keeping its Asia/Shanghai time of day."""
    if working_days <= 0:
        return due_at, False
    local = due_at.astimezone(SHANGHAI)
    new_date, estimated = add_working_days(conn, local.date(), working_days)
    return datetime.combine(new_date, local.timetz()), estimated


def next_working_day_end(conn, now: datetime):
    """23:59:59 Asia/Shanghai of the first working day after now's date.

    The bound of the "due soon" filter: an open problem not yet overdue whose due_at is at
    most this is due within one working day.
    """
    d, _ = add_working_days(conn, local_date(now), 1)
    return end_of_local_day(d)


class TimeLeft:
    """The 剩余时限 of problems as of one moment: working days left, or overdue, or done.

    One instance serves a whole export or page: the answer depends only on the status and
    the due date, so it is worked out once per (state, due date) and remembered.

    - rectified or closed → ``已完成``;
    - rejected, suspended (never overdue, its deadline moves on resume) or no deadline
      yet (not accepted) → empty;
    - open and not past due → ``剩N个工作日``: working days after today up to the due
      date (N = 0 on the due day itself);
    - open and past due → ``超期N个工作日``: working days after the due date up to today,
      at least 1 (a deadline missed on Friday evening is overdue on Saturday).
    """

    DONE_TEXT = "已完成"
    BATCH = timedelta(days=62)

    def __init__(self, conn, now: datetime):
        self.conn = conn
        self.now = now
        self.today = local_date(now)
        self._cache = {}
        self._after = {self.today: 0}  # date → working days in (today, date]
        self._before = {self.today: 0}  # date → working days in (date, today]

    def of(self, status, due_at):
        """(kind, n) with kind in left | overdue | done, or None when there is nothing to say.

        due_at is an aware datetime or its stored ISO text."""
        if status in DONE:
            return ("done", 0)
        if not deadline_runs(status, due_at):
            return None
        if isinstance(due_at, str):
            due_at = parse_iso(due_at)
        overdue = self.now > due_at
        key = (overdue, local_date(due_at))
        if key not in self._cache:
            self._cache[key] = self._count(overdue, key[1])
        return self._cache[key]

    def _count(self, overdue, due_date):
        if overdue:
            return ("overdue", max(self._between(due_date), 1))
        return ("left", self._between(due_date))

    def _between(self, other):
        """working_days_between(today, other) for a later date, (other, today) for an
        earlier one: each day is looked at once however many dates are asked (an export
        of 20,000 problems asks for ~1,000 due dates over years)."""
        forward = other > self.today
        counts = self._after if forward else self._before
        if other not in counts:
            one = timedelta(days=1)
            if forward:  # (today, d] = (today, d - 1] + d
                edge = max(counts)
                far = max(other, edge + self.BATCH)
                workday = {i.date: i.is_workday for i in days(self.conn, edge + one, far)}
                for d in (edge + one * k for k in range(1, (far - edge).days + 1)):
                    counts[d] = counts[d - one] + workday[d]
            else:  # (d, today] = (d + 1, today] + (d + 1)
                edge = min(counts)
                far = min(other, edge - self.BATCH)
                workday = {i.date: i.is_workday for i in days(self.conn, far + one, edge)}
                for d in (edge - one * k for k in range(1, (edge - far).days + 1)):
                    counts[d] = counts[d + one] + workday[d + one]
        return counts[other]

    def text(self, status, due_at):
        """剩N个工作日 | 超期N个工作日 | 已完成 | '' (DESIGN §11)."""
        return self._words(self.of(status, due_at))

    def day_texts(self, due_date):
        """(text while not past due, text once past due) of an open problem whose running
        deadline falls on the local date due_date — text() for every such problem of that
        day at once (an export joins these per due date in SQL). None for a case that cannot
        happen (not past due on a date before today, past due on a date after it)."""
        left = self._words(self._count(False, due_date)) if due_date >= self.today else None
        late = self._words(self._count(True, due_date)) if due_date <= self.today else None
        return left, late

    def _words(self, found):
        if found is None:
            return ""
        kind, n = found
        if kind == "done":
            return self.DONE_TEXT
        return f"剩{n}个工作日" if kind == "left" else f"超期{n}个工作日"
