"""Importing a year's holiday notice (放假安排) into the calendar override table."""

import csv
from datetime import date

from ..storage import calendar as calendar_store

TRUE = {"1", "true", "yes", "y", "workday", "是", "班"}
FALSE = {"0", "false", "no", "n", "holiday", "否", "休"}
HEADER = ["date", "is_workday", "name"]


class CalendarImportError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(stream):
    """[(YYYY-MM-DD, is_workday, name)] from a CSV `date,is_workday,name`, or
    CalendarImportError listing every bad row."""
    reader = csv.reader(stream)
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != HEADER[:2] or any(h not in HEADER for h in header):
        raise CalendarImportError([f"line 1: the header must be {','.join(HEADER)}"])
    rows, problems, seen = [], [], {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        record = dict(zip(header, (c.strip() for c in cells), strict=False))
        text = record.get("date", "")
        try:
            if len(text) != 10:
                raise ValueError
            day = date.fromisoformat(text).isoformat()
        except ValueError:
            problems.append(f"line {line_no}: date {text!r} is not YYYY-MM-DD")
            continue
        flag = record.get("is_workday", "").lower()
        if flag not in TRUE and flag not in FALSE:
            problems.append(f"line {line_no}: is_workday {flag!r} is not 1/0/true/false")
            continue
        name = record.get("name") or None
        if name is not None and len(name) > 50:
            problems.append(f"line {line_no}: name longer than 50 characters")
            continue
        if day in seen:
            problems.append(f"line {line_no}: {day} repeats line {seen[day]}")
            continue
        seen[day] = line_no
        rows.append((day, flag in TRUE, name))
    if problems:
        raise CalendarImportError(problems)
    return rows


def store(conn, rows):
    """Write the parsed overrides (inside the caller's transaction); (created, updated)."""
    created = 0
    for day, is_workday, name in rows:
        created += calendar_store.put(conn, day, is_workday, name)
    return created, len(rows) - created
