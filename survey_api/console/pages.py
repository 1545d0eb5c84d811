"""What every console page shares: the labels, times and deadlines as the templates show them.

The words come from survey_api/labels.py and the deadline arithmetic from
services/deadlines.TimeLeft; this module only formats them.
"""

from flask import g

from .. import labels
from ..db import get_db
from ..services.deadlines import TimeLeft
from ..timeutil import SHANGHAI, now, parse_iso
from . import bp

DASH = "—"


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    """An ISO instant as Asia/Shanghai wall time; — when absent."""
    if not value:
        return DASH
    return parse_iso(value).astimezone(SHANGHAI).strftime(fmt)


def local_date(value):
    return local_time(value, "%Y-%m-%d")


def time_left():
    """One TimeLeft per request (it remembers the working-day counts)."""
    if "time_left" not in g:
        g.time_left = TimeLeft(get_db().conn, now())
    return g.time_left


def deadline(status, due_at):
    """2026-12-04（剩3个工作日）, 超期2个工作日, 2026-12-04（已完成） or —."""
    found = time_left().of(status, due_at)
    if found is None:
        return local_date(due_at) if due_at else DASH
    kind, n = found
    if kind == "overdue":
        return f"超期{n}个工作日"
    if kind == "done":
        return f"{local_date(due_at)}（已完成）" if due_at else DASH
    return f"{local_date(due_at)}（剩{n}个工作日）"


def deadline_kind(status, due_at):
    """overdue | left | done | '' — a CSS class beside the text (never colour alone)."""
    found = time_left().of(status, due_at)
    return found[0] if found else ""


@bp.app_template_filter("yuan")
def _yuan(amount):
    """An amount in yuan: 120 → 120.00; None → 0.00."""
    return f"{amount or 0:,.2f}"


@bp.app_template_filter("label")
def _label(code, kind):
    return labels.label(kind, code) or DASH


bp.add_app_template_filter(local_time, "local_time")
bp.add_app_template_filter(local_date, "local_date")
bp.add_app_template_global(deadline, "deadline")
bp.add_app_template_global(deadline_kind, "deadline_kind")
bp.add_app_template_global(labels.yes_no, "yes_no")
bp.add_app_template_global(labels.tags, "tag_labels")
