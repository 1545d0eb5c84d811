"""The periods the console's figures cover: 本周, 本月, 本年, 全部, or explicit dates.

One function turns what a page was given (a preset or dates, Asia/Shanghai) into a Period,
whose dates are exactly the `from`/`to` the API takes: the dashboard and
GET /units/{code}/summary?from=…&to=… count the same thing.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from ..timeutil import local_date, now, period_bounds

# key → label, in the order the links are shown
PRESETS = {"week": "本周", "month": "本月", "year": "本年", "all": "全部"}
DEFAULT = "all"  # the API's default too: no from/to means all time


class PeriodError(ValueError):
    """A date that is not YYYY-MM-DD, or a start after the end: {field: message}."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Period:
    key: str  # week | month | year | all | custom
    start: date | None  # inclusive, Asia/Shanghai; None = unbounded
    end: date | None

    @property
    def label(self):
        if self.key in PRESETS:
            return PRESETS[self.key]
        return f"{_text(self.start) or '不限'} 至 {_text(self.end) or '不限'}"

    def bounds(self):
        """Inclusive UTC ISO bounds (or None), as the storage queries take them."""
        return period_bounds(self.start, self.end)

    def query(self):
        """The API's query parameters for this period (`from`, `to`; absent = open)."""
        out = {}
        if self.start is not None:
            out["from"] = self.start.isoformat()
        if self.end is not None:
            out["to"] = self.end.isoformat()
        return out

    def url_args(self):
        """What a console link carries to keep this period: the preset, or the dates."""
        return {"period": self.key} if self.key in PRESETS else self.query()


def _text(d):
    return d.isoformat() if d else None


def _parse(text, field):
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError({field: f"日期格式应为 YYYY-MM-DD：{text}"}) from None


def resolve(preset=None, start=None, end=None, today=None):
    """The Period for a preset key or explicit dates (dates win; empty strings are absent).

    Presets end today: 本周 from this Monday, 本月 from the 1st, 本年 from 1 January.
    """
    today = today or local_date(now())
    start = (start or "").strip()
    end = (end or "").strip()
    if start or end:
        lo = _parse(start, "from") if start else None
        hi = _parse(end, "to") if end else None
        if lo and hi and lo > hi:
            raise PeriodError({"to": "结束日期不能早于开始日期"})
        return Period("custom", lo, hi)
    key = preset if preset in PRESETS else DEFAULT
    if key == "week":
        return Period(key, today - timedelta(days=today.weekday()), today)
    if key == "month":
        return Period(key, today.replace(day=1), today)
    if key == "year":
        return Period(key, today.replace(month=1, day=1), today)
    return Period(key, None, None)
