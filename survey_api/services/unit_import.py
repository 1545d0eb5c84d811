"""Importing the unit tree from CSV: validate every row, then write all or nothing."""

import csv
import re

from ..db import write_tx
from ..roles import PARENT_LEVEL, UNIT_LEVELS
from ..storage import units as unit_store

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$")
HEADER = ["code", "name", "level", "parent_code"]


class UnitImportError(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


def import_units_csv(conn, stream):
    """Returns (created, updated); raises UnitImportError listing each bad row."""
    rows, problems = _read_rows(conn, csv.reader(stream))
    problems += _parent_problems(conn, rows)
    if problems:
        raise UnitImportError(problems)
    created = updated = 0
    order = sorted(rows.items(), key=lambda kv: UNIT_LEVELS.index(kv[1][2]))
    with write_tx(conn):
        for code, (_number, name, level, parent) in order:
            existed = unit_store.get(conn, code) is not None
            unit_store.upsert(conn, code, name, level, parent)
            updated += existed
            created += not existed
    return created, updated


def _read_rows(conn, reader):
    """({code: (row number, name, level, parent or None)}, problems) after the header."""
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != HEADER:
        raise UnitImportError([f"row 1: header must be {','.join(HEADER)}"])
    rows, problems = {}, []
    for number, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) != 4:
            problems.append(f"row {number}: expected 4 columns, got {len(raw)}")
            continue
        code, name, level, parent = (c.strip() for c in raw)
        problems += _row_problems(conn, number, code, name, level, code in rows)
        rows[code] = (number, name, level, parent or None)
    return rows, problems


def _row_problems(conn, number, code, name, level, repeated):
    problems = []
    if not CODE_RE.match(code):
        problems.append(f"row {number}: bad code {code!r}")
    elif repeated:
        problems.append(f"row {number}: code {code} appears twice")
    if not name or len(name) > 100:
        problems.append(f"row {number}: name must be 1-100 characters")
    if level not in UNIT_LEVELS:
        problems.append(f"row {number}: level must be one of {', '.join(UNIT_LEVELS)}")
    else:
        stored = unit_store.get(conn, code) if CODE_RE.match(code) else None
        if stored is not None and stored["level"] != level:
            problems.append(
                f"row {number}: {code} is a {stored['level']}; an import cannot change its level"
            )
    return problems


def _parent_problems(conn, rows):
    """Each row's parent (in the file or stored) sits one level up; grid codes extend it."""
    problems = []
    for code, (number, _name, level, parent) in rows.items():
        if level not in UNIT_LEVELS:
            continue
        if level == "district":
            if parent:
                problems.append(f"row {number}: a district has no parent")
            continue
        parent_level = (
            rows[parent][2]
            if parent in rows
            else ((unit_store.get(conn, parent) or {}).get("level") if parent else None)
        )
        if parent_level is None:
            problems.append(f"row {number}: parent {parent!r} not found")
        elif parent_level != PARENT_LEVEL[level]:
            problems.append(f"row {number}: parent of a {level} must be a {PARENT_LEVEL[level]}")
        elif level == "grid" and not code.startswith(parent + "-"):
            problems.append(f"row {number}: grid code must start with '{parent}-'")
    return problems
