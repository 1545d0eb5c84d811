"""Open and overdue, defined once: in Python for one row, and as SQL for a query (DESIGN §4).

Open = neither closed nor rejected. Overdue = open, not suspended (a suspended problem is
never overdue: its deadline moves on resume), with a due_at that lies before now.
"""

from ..statuses import OPEN, STATUSES, SUSPENDED

# The deadline runs in these statuses (suspend stops it).
DEADLINE_RUNS = tuple(s for s in OPEN if s != SUSPENDED)
_ENDED = tuple(s for s in STATUSES if s not in OPEN)  # closed, rejected


def is_open(row):
    return row["status"] in OPEN


def deadline_runs(status, due_at):
    """A deadline that counts: the problem is open, not suspended, and has a due_at."""
    return status in DEADLINE_RUNS and bool(due_at)


def is_overdue(row, now):
    """Open, not suspended, and past its due time (now and due_at as stored ISO text)."""
    return deadline_runs(row["status"], row["due_at"]) and now > row["due_at"]


def _quoted(statuses):
    return ", ".join(f"'{s}'" for s in statuses)


def _col(alias, column):
    return f"{alias}.{column}" if alias else column


def open_sql(alias=""):
    """SQL: the problem (table alias `alias`) is open."""
    return f"{_col(alias, 'status')} NOT IN ({_quoted(_ENDED)})"


def deadline_runs_sql(alias=""):
    """SQL twin of deadline_runs(). The statuses are named (IN, not NOT IN) so that an index
    on (…, status, due_at) answers it (the problem queue's counts, migration 5)."""
    return (
        f"{_col(alias, 'status')} IN ({_quoted(DEADLINE_RUNS)})"
        f" AND {_col(alias, 'due_at')} IS NOT NULL"
    )


def overdue_sql(alias="", now="?"):
    """SQL twin of is_overdue(), parenthesised; `now` is the placeholder of the current time
    (`?` or a name such as `:now`)."""
    return f"({deadline_runs_sql(alias)} AND {_col(alias, 'due_at')} < {now})"
